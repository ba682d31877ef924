// Bearer-token check. Tokens are compared as SHA-256 digests with timingSafeEqual,
// so neither a token's content nor its length shows in the response time.
import { createHash, timingSafeEqual } from 'node:crypto'
import { SwitchyardError } from '../control/index.js'

/** Throws UNAUTHORIZED for a missing or unknown token; `null` tokens mean an open gateway. */
export type Authenticate = (authorization: string | undefined) => void

export const WWW_AUTHENTICATE = 'Bearer realm="switchyard"'

/** @example const authenticate = createAuthenticator(['s3cret']); authenticate(req.headers.authorization) */
export function createAuthenticator(tokens: readonly string[] | null): Authenticate {
  if (tokens === null) return () => {}
  const digests = tokens.filter((token) => token !== '').map(digest)
  return (authorization) => {
    const match = /^Bearer +(\S+) *$/i.exec(authorization ?? '')
    if (!match?.[1]) {
      throw new SwitchyardError('UNAUTHORIZED', 'missing bearer token: send Authorization: Bearer <token>')
    }
    const presented = digest(match[1])
    // Compare against every token, without an early exit, so timing does not reveal which matched.
    let ok = false
    for (const known of digests) ok = timingSafeEqual(presented, known) || ok
    if (!ok) throw new SwitchyardError('UNAUTHORIZED', 'invalid bearer token')
  }
}

/** Tokens from a comma- or newline-separated list (SWITCHYARD_TOKENS, a tokens file); blanks and `#` lines dropped. */
export function parseTokens(text: string): string[] {
  return text
    .split(/[,\r\n]/)
    .map((token) => token.trim())
    .filter((token) => token !== '' && !token.startsWith('#'))
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest()
}
