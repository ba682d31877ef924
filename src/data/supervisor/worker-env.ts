// The environment a pool's worker process gets: a minimal base plus that pool's env
// file, and nothing else. A secret in the email pool's env file never reaches the
// discovery pool's processes, and the supervisor's own env does not leak into any.
// What a pool needs from the supervisor is public or its own: the gateway's public
// verify keys, the trace receiver's URL, its own trace-ingest credential, its own
// Redis URL. Never the signing key, a gateway token, or the producer's Redis URL,
// unless the pool has no Redis credentials of its own (then the supervisor warns).
import { readFileSync } from 'node:fs'
import { parseEnv } from 'node:util'
import { SwitchyardError } from '../../control/index.js'
import type { Pool } from '../../control/index.js'

/** Variables copied from the parent's env when set. NODE_OPTIONS is deliberately absent. */
export const BASE_ENV_KEYS: readonly string[] = ['PATH', 'HOME', 'LANG', 'TZ', 'TMPDIR']

export interface WorkerEnvOptions {
  readonly pool: Pick<Pool, 'name' | 'env'> & Partial<Pick<Pool, 'redis'>>
  /** The parent's env, read for BASE_ENV_KEYS only. @default process.env */
  readonly parent?: Readonly<Record<string, string | undefined>>
  /** The public keys the pool's workers verify envelopes with (SWITCHYARD_VERIFY_KEYS); never a private key. */
  readonly verifyKeys: string | null
  /** Absolute path of the registry file (SWITCHYARD_CONFIG). */
  readonly config: string
  /** The embedded gateway's OTLP receiver (SWITCHYARD_TRACES_URL); the pool's env file may override it. */
  readonly tracesUrl?: string | null
  /** Extra variables set by the supervisor (a pool's own trace-ingest credential, say). */
  readonly extra?: Readonly<Record<string, string>>
  /**
   * The Redis every pool shares (`start --redis`, the producer's URL): given to the pool
   * only when it has no Redis of its own (SWITCHYARD_REDIS_URL in its env file, or
   * `redis:` in the registry). null: none (the embedded broker).
   */
  readonly sharedRedis?: string | null
  /** The OS user the pool's processes run as (`user:` under start): HOME, USER and LOGNAME are its. */
  readonly identity?: { readonly name: string; readonly home: string } | null
}

/** The variables of BASE_ENV_KEYS that `parent` sets, and nothing else. */
export function baseEnv(parent: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const env: Record<string, string> = {}
  for (const key of BASE_ENV_KEYS) {
    const value = parent[key]
    if (value !== undefined) env[key] = value
  }
  return env
}

/** The env var a pool's Redis URL (its own ACL user) is read from, in its env file. */
export const REDIS_URL_ENV = 'SWITCHYARD_REDIS_URL'

/** Parse a dotenv file; a missing or unreadable file is an error naming the pool and the path. */
export function readEnvFile(pool: string, path: string): Record<string, string> {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    throw new SwitchyardError('REGISTRY_INVALID', `pool '${pool}': cannot read env file ${path}: ${(error as Error).message}`, {
      cause: error,
    })
  }
  const parsed = parseEnv(text) as Record<string, string>
  return { ...parsed }
}

/**
 * The complete env of one pool's worker process, and whether it was given the shared
 * (producer's) Redis URL for want of credentials of its own.
 *
 * @example
 * fork(entry, args, { env: workerEnv({ pool, verifyKeys: keys.toString(), config: registry.source }).env })
 */
export function workerEnv(options: WorkerEnvOptions): {
  env: Record<string, string>
  sharedRedis: boolean
} {
  const env = baseEnv(options.parent ?? process.env)
  if (options.identity) {
    // The supervisor's HOME (/root) is not the pool user's to read or write; its env file may still set one.
    env.HOME = options.identity.home
    env.USER = options.identity.name
    env.LOGNAME = options.identity.name
  }
  env.SWITCHYARD_CONFIG = options.config
  if (options.verifyKeys) env.SWITCHYARD_VERIFY_KEYS = options.verifyKeys
  if (options.tracesUrl) env.SWITCHYARD_TRACES_URL = options.tracesUrl
  Object.assign(env, options.extra ?? {})
  // The supervisor's own variable of that name is the producer's; never inherited.
  delete env[REDIS_URL_ENV]
  if (options.pool.env) Object.assign(env, readEnvFile(options.pool.name, options.pool.env))
  let sharedRedis = false
  if (options.sharedRedis && !env[REDIS_URL_ENV] && !options.pool.redis) {
    env[REDIS_URL_ENV] = options.sharedRedis
    sharedRedis = true
  }
  // The pool's file must not re-enable what the base leaves out on purpose.
  delete env.NODE_OPTIONS
  return { env, sharedRedis }
}
