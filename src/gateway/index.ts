// switchyard gateway: the HTTP API of DESIGN §2.3 (auth → route() → signed envelope
// → broker → the flat output), with the gateway's spans of DESIGN §3.
export { startGateway } from './server.js'
export type { Gateway, GatewayOptions } from './options.js'

export { parseTokens } from './auth.js'
export { parseTokensFile, fullPrivilegeTokens, type TokenEntry } from './tokens-file.js'
export { ingestToken, newIngestSecret } from './ingest-credential.js'
export { connectionOptionsFromEnv } from './connection-limits.js'
export { admissionOptionsFromEnv } from './fair-admission.js'
export { allowedHostsFromEnv } from './host-check.js'
