// The tokens file (`--tokens-file`): one token per line with what it grants.
//
//   # token            roles          restrictions (optional)              label (optional)
//   s3cr3t-ci          run,read       workflows=email.*,classify.country   name=ci
//   sha256:9f86d0…     read           pools=email                          name=dashboard
//   scrape-me          metrics
//   worker-elsewhere   ingest         pools=discovery
//   0ld-bare-token                    # a bare token: full privilege (admin), as before scopes
//
// A token may be written as `sha256:<64 hex>` (its SHA-256), so the file need not hold
// the secret itself. SWITCHYARD_TOKENS (comma-separated) stays a list of full-privilege tokens.
import { createHash } from 'node:crypto'
import { FULL_ROLES, PATTERN, ROLES, type Grant, type Role } from './scopes.js'

/**
 * What a token grants as its line says it: a Grant without its id, which only the
 * authenticator gives (from the token's digest, auth.ts), so no builder here can make
 * two tokens share an owner id by sharing a name.
 */
export type TokenGrant = Omit<Grant, 'id'>

/** One accepted token: the SHA-256 of its text, and what it grants. */
export interface TokenEntry {
  readonly digest: Buffer
  readonly grant: TokenGrant
}

/** SHA-256 of a token's UTF-8 text (how tokens are kept and compared). */
export function tokenDigest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest()
}

/** Full-privilege entries from a comma- or newline-separated list (SWITCHYARD_TOKENS). */
export function fullPrivilegeTokens(tokens: readonly string[], source = 'SWITCHYARD_TOKENS'): TokenEntry[] {
  return tokens
    .filter((token) => token !== '')
    .map((token, i) => ({ digest: tokenDigest(token), grant: { name: `${source} #${i + 1}`, roles: FULL_ROLES } }))
}

const DIGEST = /^sha256:([0-9a-f]{64})$/i
const KEYS = new Set(['workflows', 'pools', 'name'])

/**
 * Parse a tokens file. Throws one Error listing every problem, each as `source:line: …`.
 *
 * @example parseTokensFile(readFileSync(path, 'utf8'), path)
 */
export function parseTokensFile(text: string, source: string): TokenEntry[] {
  const entries: TokenEntry[] = []
  const problems: string[] = []
  const seen = new Map<string, number>()
  const lines = text.split(/\r?\n/)
  lines.forEach((raw, index) => {
    const lineNo = index + 1
    const at = (message: string) => problems.push(`${source}:${lineNo}: ${message}`)
    const line = raw.replace(/(^|\s)#.*$/, '').trim()
    if (line === '') return
    const fields = line.split(/\s+/)
    const first = fields[0] as string
    // The format before scopes: bare tokens, comma-separated on a line. Each is full privilege.
    if (fields.length === 1 && first.includes(',')) {
      for (const token of first.split(',').filter((t) => t !== ''))
        add(token, { name: `${source}:${lineNo}`, roles: FULL_ROLES }, lineNo, at)
      return
    }
    let roles: Role[] | undefined
    let workflows: string[] | null = null
    let pools: string[] | null = null
    let name = `${source}:${lineNo}`
    for (const field of fields.slice(1)) {
      const eq = field.indexOf('=')
      if (eq === -1) {
        if (roles !== undefined) {
          at(`'${field}': roles are given once, comma-separated (e.g. run,read)`)
          continue
        }
        roles = []
        for (const role of field.split(',')) {
          if ((ROLES as readonly string[]).includes(role)) roles.push(role as Role)
          else at(`unknown role '${role}' (use ${ROLES.join(', ')})`)
        }
        continue
      }
      const key = field.slice(0, eq)
      const values = field
        .slice(eq + 1)
        .split(',')
        .filter((v) => v !== '')
      if (!KEYS.has(key)) {
        at(`unknown key '${key}' (use workflows=, pools= or name=)`)
        continue
      }
      if (values.length === 0) {
        at(`${key}= is empty`)
        continue
      }
      if (key === 'name') name = values.join(',')
      if (key === 'workflows') {
        for (const v of values.filter((v) => !PATTERN.test(v)))
          at(`workflows: '${v}' is not a workflow name or pattern (letters, digits, '.', '-', '*')`)
        workflows = values
      }
      if (key === 'pools') pools = values
    }
    const granted = roles ?? [...FULL_ROLES]
    if (granted.includes('admin') && (workflows !== null || pools !== null)) {
      at("'admin' is unrestricted: drop workflows=/pools=, or grant run, read, metrics or ingest instead")
    }
    if (granted.length === 0) at('no role given')
    add(first, { name, roles: granted, workflows, pools }, lineNo, at)
  })
  if (problems.length > 0) throw new Error(problems.join('\n'))
  if (entries.length === 0) throw new Error(`${source} holds no token`)
  return entries

  function add(token: string, grant: TokenGrant, lineNo: number, at: (message: string) => void): void {
    const digestText = DIGEST.exec(token)?.[1]
    const digest = digestText ? Buffer.from(digestText, 'hex') : tokenDigest(token)
    const key = digest.toString('hex')
    const earlier = seen.get(key)
    if (earlier !== undefined) {
      at(`the same token as line ${earlier}: give a token one line`)
      return
    }
    seen.set(key, lineNo)
    entries.push({ digest, grant })
  }
}
