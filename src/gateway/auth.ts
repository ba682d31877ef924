// Bearer tokens in, a Caller out (scopes.ts says what it may do). Tokens are compared
// as SHA-256 digests with timingSafeEqual against every known token, so neither a
// token's content, its length nor which one matched shows in the response time.
import { createHash, timingSafeEqual } from 'node:crypto'
import { SwitchyardError } from '../control/index.js'
import { verifyIngestToken } from './ingest-credential.js'
import { ANONYMOUS, ANONYMOUS_OPEN_INGEST, callerOf, type Caller, type Grant } from './scopes.js'
import { fullPrivilegeTokens, tokenDigest, type TokenEntry } from './tokens-file.js'

/** Throws UNAUTHORIZED for a missing or unknown token. */
export type Authenticate = (authorization: string | undefined) => Caller

export const WWW_AUTHENTICATE = 'Bearer realm="switchyard"'

export interface AuthOptions {
  /** Accepted tokens (strings are full privilege); null: an open gateway, every caller anonymous. */
  readonly tokens: readonly (string | TokenEntry)[] | null
  /** The secret pools' ingest credentials are minted with (ingest-credential.ts); absent: none is accepted. */
  readonly ingestSecret?: string | null
}

/** @example const authenticate = createAuthenticator({ tokens: ['s3cret'] }); const caller = authenticate(req.headers.authorization) */
export function createAuthenticator(options: AuthOptions): Authenticate {
  const entries = options.tokens === null ? null : normalize(options.tokens)
  const secret = options.ingestSecret ?? null
  const anonymous = secret === null ? ANONYMOUS_OPEN_INGEST : ANONYMOUS
  return (authorization) => {
    const token = /^Bearer +(\S+) *$/i.exec(authorization ?? '')?.[1]
    if (token !== undefined && secret !== null) {
      const ingest = verifyIngestToken(secret, token)
      if (ingest !== null) return callerOf(ingest)
    }
    // Open: a token (a pool's ingest credential aside) changes nothing.
    if (entries === null) return anonymous
    if (token === undefined) throw new SwitchyardError('UNAUTHORIZED', 'missing bearer token: send Authorization: Bearer <token>')
    const presented = tokenDigest(token)
    let found: KnownToken | undefined
    // No early exit: every comparison runs, whichever matched.
    for (const entry of entries) if (timingSafeEqual(presented, entry.digest) && found === undefined) found = entry
    if (found === undefined) throw new SwitchyardError('UNAUTHORIZED', 'invalid bearer token')
    return callerOf(found.grant)
  }
}

/** Tokens from a comma- or newline-separated list (SWITCHYARD_TOKENS); blanks and `#` lines dropped. */
export function parseTokens(text: string): string[] {
  return text
    .split(/[,\r\n]/)
    .map((token) => token.trim())
    .filter((token) => token !== '' && !token.startsWith('#'))
}

/** An accepted token with its grant complete: the id its caller (and its runs' owner) goes by. */
interface KnownToken {
  readonly digest: Buffer
  readonly grant: Grant
}

function normalize(tokens: readonly (string | TokenEntry)[]): KnownToken[] {
  const strings = tokens.filter((t): t is string => typeof t === 'string')
  return [...fullPrivilegeTokens(strings, 'token'), ...tokens.filter((t): t is TokenEntry => typeof t !== 'string')].map((entry) => ({
    ...entry,
    grant: { ...entry.grant, id: callerId(entry.digest) },
  }))
}

/**
 * A token's caller id: a domain-separated hash of its digest, cut to 96 bits, so spans
 * can say which credential sent a request (two tokens may share a name). It does not
 * reveal the token; like the `sha256:` form of the tokens file, it only confirms a guess.
 */
function callerId(digest: Buffer): string {
  return `token:${createHash('sha256').update('switchyard caller id\n').update(digest).digest('base64url').slice(0, 16)}`
}
