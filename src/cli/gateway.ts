// `switchyard gateway`: the HTTP gateway alone, on Redis (BullMQ), for deployments
// where pool workers run elsewhere (`switchyard worker --pool NAME --redis URL`).
// It refuses to start open unless told so: tokens come from SWITCHYARD_TOKENS or
// --tokens-file; --no-auth is the explicit opt-out.
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { SERVICE, loadRegistry } from '../control/index.js'
import {
  admissionOptionsFromEnv,
  allowedHostsFromEnv,
  connectionOptionsFromEnv,
  fullPrivilegeTokens,
  parseTokens,
  parseTokensFile,
  startGateway,
  type TokenEntry,
} from '../gateway/index.js'
import type { SigningKey } from '../data/index.js'
import { CONFIG_OPTION, configPath, parse, str } from './args.js'
import { runIfMain } from './run-if-main.js'
import { SIGNING_KEY_OPTION, resolveSigningKey } from './signing-key.js'

const USAGE = `usage: switchyard gateway --redis URL --signing-key FILE [--config FILE] [--port 7070] [--host 127.0.0.1]
                          [--tokens-file FILE | --no-auth] [--trace-dir DIR] [--cors-origin URL]…

Runs the HTTP gateway on Redis: auth → route() → signed envelope → the pool's queue.
  --redis URL         Redis for pools without their own (default SWITCHYARD_REDIS_URL)
  --signing-key FILE  Ed25519 private key (PEM) envelopes are signed with (default
                      SWITCHYARD_SIGNING_KEY_FILE); 'switchyard keys generate' makes one,
                      and its workers verify with the public key (SWITCHYARD_VERIFY_KEYS)
  --broker redis      the only broker a standalone gateway can use (the memory broker lives in 'switchyard dev')
  --port N            listen port (default PORT or 7070; 0 = any free port)
  --host H            listen address (default 127.0.0.1)
  --tokens-file FILE  bearer tokens with their scopes, one per line (see SECURITY.md;
                      default: SWITCHYARD_TOKENS, comma-separated, each full privilege)
  --no-auth           run without tokens (anyone who can reach the port can run workflows)
  --trace-dir DIR     keep an embedded trace store here (POST /v1/traces, GET /v1/traces/{id}; the console at / either way)
  --cors-origin URL   let browser pages on this origin call the API (repeatable; '*' for any)
  --supervised        run as the child of 'switchyard start' (forked with IPC): take the signing key
                      and ingest secret over IPC, report the URL back, stop when the parent goes
Env: SWITCHYARD_INGEST_SECRET mints pools' trace-ingest credentials (with --trace-dir);
SWITCHYARD_GATEWAY_ALLOWED_HOSTS names the Host headers answered besides localhost, 127.0.0.1,
[::1] and the bind address (comma-separated: a proxy's or a DNS name; '*' for any);
OTEL_EXPORTER_OTLP_* choose where the gateway's own spans go.`

const OPTIONS = {
  ...CONFIG_OPTION,
  ...SIGNING_KEY_OPTION,
  port: { type: 'string' },
  host: { type: 'string' },
  broker: { type: 'string' },
  redis: { type: 'string' },
  'tokens-file': { type: 'string' },
  'no-auth': { type: 'boolean' },
  'trace-dir': { type: 'string' },
  'cors-origin': { type: 'string', multiple: true },
  supervised: { type: 'boolean' },
} as const

/**
 * The accepted tokens: --tokens-file (with scopes), else SWITCHYARD_TOKENS (full privilege);
 * `null` only with --no-auth. Throws with the message a person should read when neither is given.
 */
export function resolveTokens(options: { tokensFile?: string | undefined; noAuth: boolean; env: NodeJS.ProcessEnv }): TokenEntry[] | null {
  if (options.noAuth) {
    if (options.tokensFile !== undefined) throw new Error('--no-auth and --tokens-file contradict each other: pick one')
    return null
  }
  if (options.tokensFile !== undefined) return parseTokensFile(readFileSync(resolve(options.tokensFile), 'utf8'), options.tokensFile)
  const tokens = parseTokens(options.env.SWITCHYARD_TOKENS ?? '')
  if (tokens.length === 0) {
    throw new Error(
      options.env.SWITCHYARD_TOKENS
        ? 'SWITCHYARD_TOKENS holds no token'
        : 'refusing to start without auth: set SWITCHYARD_TOKENS (comma-separated) or --tokens-file FILE, or pass --no-auth to run open',
    )
  }
  return fullPrivilegeTokens(tokens)
}

/** `2 bearer tokens accepted (1 scoped)`: the start-up line. */
export function describeTokens(tokens: readonly TokenEntry[]): string {
  const scoped = tokens.filter((t) => !t.grant.roles.includes('admin')).length
  return `${tokens.length} bearer token${tokens.length === 1 ? '' : 's'} accepted${scoped ? ` (${scoped} scoped)` : ''}`
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parse(argv, OPTIONS)
  if (parsed.values.help) {
    console.log(USAGE)
    return 0
  }
  const broker = str(parsed, 'broker') ?? 'redis'
  if (broker !== 'redis') {
    throw new Error(`--broker ${broker}: a standalone gateway needs Redis (the memory broker lives inside 'switchyard dev')`)
  }
  const url = str(parsed, 'redis') ?? process.env.SWITCHYARD_REDIS_URL
  if (!url) throw new Error(`--redis URL (or SWITCHYARD_REDIS_URL) is required\n\n${USAGE}`)
  const port = Number(str(parsed, 'port') ?? process.env.PORT ?? '7070')
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`--port must be an integer from 0 to 65535, got '${str(parsed, 'port')}'`)
  const tokens = resolveTokens({ tokensFile: str(parsed, 'tokens-file'), noAuth: parsed.values['no-auth'] === true, env: process.env })
  const traceDirFlag = str(parsed, 'trace-dir')
  const supervised = parsed.values.supervised === true
  const config = configPath(str(parsed, 'config'))
  // A server does not start on a broken registry: every workflow checked now, every problem at once.
  const registry = loadRegistry(config, { check: 'load' })
  let signingKey: SigningKey
  let ingestSecret: string | null
  let notes: readonly string[] = []
  let restarts = 0
  if (supervised) {
    // Forked by `switchyard start`: the keys of its session come over IPC, never from argv or env.
    ;({ signingKey, ingestSecret, restarts } = await keysFromParent())
  } else {
    ;({ key: signingKey, notes } = resolveSigningKey({ flag: str(parsed, 'signing-key'), env: process.env, ephemeral: false }))
    ingestSecret = process.env.SWITCHYARD_INGEST_SECRET?.trim() || null
  }

  // Heavy modules load only now: `switchyard gateway --help` stays instant.
  const [{ RedisBroker, redactUrl }, { captureByPool, initTracing, StoreSpanExporter }, { verifyKeysFor }] = await Promise.all([
    import('../data/broker/redis/index.js'),
    import('../observe/sdk/index.js'),
    import('../data/index.js'),
  ])
  // Under `start` the supervisor checked the eviction policy (and said so) before forking this gateway.
  // The gateway reaps every pool's dead workers: a Python pool has no node worker to do it, and
  // a pool whose only worker died has no live one (reaper.ts).
  // Its own public key tells its runs from jobs a pool added under their ids (locate).
  const redis = await RedisBroker.connect({
    registry,
    url,
    reap: true,
    verifyKeys: verifyKeysFor(signingKey),
    ...(supervised ? { evictionCheck: 'none' as const } : {}),
  })
  const traceDir = traceDirFlag === undefined ? undefined : resolve(traceDirFlag)
  const cors = parsed.values['cors-origin']
  const corsOrigins = Array.isArray(cors) ? cors.filter((origin): origin is string => typeof origin === 'string') : []
  const gateway = await startGateway({
    registry,
    broker: redis,
    host: str(parsed, 'host') ?? '127.0.0.1',
    port,
    tokens,
    ingestSecret,
    signingKey,
    restarts,
    corsOrigins,
    connections: connectionOptionsFromEnv(process.env),
    admission: admissionOptionsFromEnv(process.env),
    allowedHosts: allowedHostsFromEnv(process.env),
    ...(traceDir ? { traceDir } : {}),
    // As in `dev`: a workflow added to the file since the start gets told to restart.
    ...(supervised ? { unknownWorkflowHint: (await import('./dev-watch.js')).registryHint(config, registry) } : {}),
  })
  // With its own store, the gateway's spans go straight into it unless an OTLP endpoint says otherwise.
  const ownStore =
    gateway.traceStore !== null && !process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT && !process.env.OTEL_EXPORTER_OTLP_ENDPOINT
  const tracing = initTracing({
    service: SERVICE.gateway,
    env: ownStore ? { SWITCHYARD_TRACES_URL: gateway.url, ...process.env } : process.env,
    tracing: captureByPool(registry.pools.values()),
    ...(ownStore && gateway.traceStore ? { exporter: new StoreSpanExporter(gateway.traceStore) } : {}),
  })
  if (supervised) {
    // `start` prints what a person reads; it only needs to know where this one listens.
    process.send?.({ type: 'switchyard.gateway.listening', url: gateway.url, port: gateway.port })
  } else {
    console.log(`switchyard gateway: ${gateway.url} on Redis ${redactUrl(url)}, ${registry.workflows.size} workflows`)
    if (tokens === null) console.log('switchyard gateway: auth is OFF (--no-auth): anyone who reaches this port can run workflows')
    else console.log(`switchyard gateway: ${describeTokens(tokens)}`)
    for (const note of notes) console.log(`switchyard gateway: ${note}`)
    if (tracing.endpoint) console.log(`switchyard gateway: spans → ${tracing.endpoint}`)
  }

  await new Promise<void>((done) => {
    process.once('SIGTERM', done)
    if (supervised) {
      // Ctrl-C reaches the whole process group: `start` orders the stop (gateway first, then
      // pools) with SIGTERM. A parent that is gone (kill -9) leaves nobody to restart or stop it.
      process.on('SIGINT', () => undefined)
      process.once('disconnect', done)
    } else {
      process.once('SIGINT', done)
    }
  })
  if (!supervised) console.log('switchyard gateway: stopping')
  await gateway.close()
  await redis.close()
  await tracing.shutdown()
  // The IPC channel would keep this process alive.
  if (supervised && process.connected) process.disconnect()
  return 0
}

/** The first IPC message of a supervised gateway: the session's keys, and how often it was restarted before. */
async function keysFromParent(): Promise<{ signingKey: SigningKey; ingestSecret: string | null; restarts: number }> {
  if (!process.send) throw new Error('--supervised: this process has no IPC channel (it is forked by switchyard start)')
  const [{ isGatewayStartMessage }, { signingKeyFromPem }] = await Promise.all([
    import('../data/supervisor/index.js'),
    import('../data/index.js'),
  ])
  const message = await new Promise<unknown>((resolve, reject) => {
    const onGone = () => reject(new Error('--supervised: the parent went away before handing over the keys'))
    process.once('disconnect', onGone)
    process.once('message', (value) => {
      process.off('disconnect', onGone)
      resolve(value)
    })
  })
  if (!isGatewayStartMessage(message)) throw new Error('--supervised: the first IPC message is not the keys')
  return {
    signingKey: signingKeyFromPem(message.signingKey, 'the signing key from switchyard start'),
    ingestSecret: message.ingestSecret,
    restarts: message.restarts,
  }
}

// Forked directly by `switchyard start` (`fork(.../cli/gateway.js, ['--supervised', …])`), not via main.
runIfMain(import.meta.url, run, 'gateway')
