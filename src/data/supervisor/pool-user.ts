// Who each pool's processes run as under `switchyard start` (a pool's `user:`), so that
// a hostile graph in one pool cannot read another pool's env file, its processes'
// /proc/<pid>/environ, the gateway's, or the signing key file: the OS keeps them apart,
// not Switchyard. The supervisor spawns with the user's uid and primary gid; libuv
// (Node's spawn) calls setgroups(0, NULL) before setgid/setuid when it is root, so the
// processes keep no supplementary group (root's least of all) — stricter than
// initgroups(), which would add the user's own secondary groups.
// When a `user:` cannot be honoured (not root, no such user, uid 0, a user two pools
// share) the pool still starts, as the supervisor's user, and start says so loudly per
// pool; `start --require-users` refuses instead.
import { spawnSync } from 'node:child_process'
import { chmodSync, chownSync, readFileSync, statSync } from 'node:fs'
import type { Pool, Registry } from '../../control/index.js'
import { probePython, type PythonProgram } from './python-program.js'
import { baseEnv } from './worker-env.js'

/** The OS identity a pool's processes get. */
export interface PoolIdentity {
  /** The login name from the user database. */
  readonly name: string
  readonly uid: number
  /** The user's primary group: the processes' only group. */
  readonly gid: number
  /** Their HOME (the passwd entry's home, whether or not it exists). */
  readonly home: string
}

const NUMERIC = /^[0-9]+$/

/** One passwd line (`name:x:uid:gid:gecos:home:shell`), or null when it is not one. */
function parsePasswd(line: string): PoolIdentity | null {
  const fields = line.split(':')
  if (fields.length < 7) return null
  const [name = '', , uid = '', gid = '', , home = ''] = fields
  if (!NUMERIC.test(uid) || !NUMERIC.test(gid)) return null
  return { name, uid: Number(uid), gid: Number(gid), home: home || '/' }
}

/**
 * Look a user (a name, or a numeric uid) up in the machine's user database: `getent
 * passwd`, which asks NSS (files, LDAP, sssd, systemd's dynamic users) as login does;
 * /etc/passwd where getent is missing. null: no such user. os.userInfo() cannot do this:
 * it knows only the current process's user.
 *
 * @example lookupUser('sy-email') // { name: 'sy-email', uid: 998, gid: 998, home: '/home/sy-email' }
 */
export function lookupUser(user: string): PoolIdentity | null {
  const getent = spawnSync('getent', ['passwd', user], { encoding: 'utf8', timeout: 10_000 })
  if (getent.error === undefined && getent.status !== null) {
    // Exit 2: no such key. Any other failure is not an answer either.
    if (getent.status !== 0) return null
    const entry = parsePasswd(getent.stdout.split('\n')[0] ?? '')
    return entry !== null && (entry.name === user || String(entry.uid) === user) ? entry : null
  }
  let text: string
  try {
    text = readFileSync('/etc/passwd', 'utf8')
  } catch {
    return null
  }
  const entries = text.split('\n').map(parsePasswd)
  const byName = entries.find((entry) => entry?.name === user)
  return byName ?? (NUMERIC.test(user) ? (entries.find((entry) => entry !== null && String(entry.uid) === user) ?? null) : null)
}

export interface PoolUsers {
  /** The pools whose processes run as a user of their own, and as whom. */
  readonly identities: ReadonlyMap<string, PoolIdentity>
  /** One loud line per pool whose processes can reach other pools or the gateway, and why. */
  readonly warnings: readonly string[]
}

export interface PoolUsersOptions {
  /** The supervisor's uid. @default process.getuid() */
  readonly uid?: number
  /** @default lookupUser */
  readonly lookup?: (user: string) => PoolIdentity | null
}

/** What a process that shares the gateway's user can read: said in every warning, so nobody has to guess. */
const EXPOSED = "every pool's env file, the signing key file and the gateway's /proc/<pid>/environ"

/**
 * Resolve each pool's `user:` for `switchyard start`: the identities to spawn with, and a
 * warning for every pool left able to reach the others (its `user:` cannot be honoured,
 * or it has none while other pools do). Pure but for the user lookups.
 *
 * @example
 * const { identities, warnings } = resolvePoolUsers(registry)
 * for (const line of warnings) console.log(line)
 */
export function resolvePoolUsers(registry: Registry, options: PoolUsersOptions = {}): PoolUsers {
  const uid = options.uid ?? process.getuid?.() ?? -1
  const lookup = options.lookup ?? lookupUser
  const pools = [...registry.pools.values()]
  const identities = new Map<string, PoolIdentity>()
  const warnings: string[] = []
  if (!pools.some((pool) => pool.user !== null)) {
    // Not root: every pool runs as the operator's own user, as `dev` does. As root, every graph
    // would run as root (it read the tokens file, the cache key and every env file): said once.
    if (uid === 0)
      warnings.push(
        `WARNING: no pool has a user: and switchyard start runs as root, so every pool's processes run as root (uid 0) and can read ${EXPOSED}, and more; give each pool a user: of its own`,
      )
    return { identities, warnings }
  }
  for (const pool of pools) {
    const said = `pool '${pool.name}'`
    if (pool.user === null) {
      warnings.push(
        `WARNING: ${said} has no user: its processes run as the supervisor's user (uid ${uid}) and can read ${EXPOSED}; give it a user: of its own`,
      )
      continue
    }
    if (uid !== 0) {
      warnings.push(
        `WARNING: ${said} has user: ${pool.user}, but switchyard start runs as uid ${uid}, not root, so it cannot switch users: ` +
          `the pool runs as uid ${uid}, like the gateway, and can read ${EXPOSED}. Run start as root to separate the pools`,
      )
      continue
    }
    const identity = lookup(pool.user)
    if (identity === null) {
      warnings.push(
        `WARNING: ${said} has user: ${pool.user}, but no such user exists here (getent passwd ${pool.user}): the pool runs as root ` +
          `and can read ${EXPOSED}. Create it (useradd --system --no-create-home --shell /usr/sbin/nologin ${pool.user})`,
      )
      continue
    }
    if (identity.uid === 0) {
      warnings.push(`WARNING: ${said} has user: ${pool.user}, which is uid 0 (root): the pool can read ${EXPOSED}, and more`)
      continue
    }
    identities.set(pool.name, identity)
  }
  // Two pools as one user read each other's /proc/<pid>/environ: each needs one of its own.
  const byUid = new Map<number, string[]>()
  for (const [pool, identity] of identities) byUid.set(identity.uid, [...(byUid.get(identity.uid) ?? []), pool])
  for (const [shared, names] of byUid) {
    if (names.length < 2) continue
    const list = names.map((name) => `'${name}'`).join(', ')
    warnings.push(
      `WARNING: pools ${list} all run as user ${identities.get(names[0] ?? '')?.name ?? shared} (uid ${shared}): ` +
        `each can read the others' processes' environment (their env files' secrets); give each a user of its own`,
    )
  }
  return { identities, warnings }
}

/**
 * Keep every pool's env file out of other pools' reach once pools run as users of their
 * own: a file group- or world-readable becomes 0600 (its owner kept), and one owned by a
 * pool user other than its own pool's is handed to the supervisor's user. Only the
 * supervisor reads env files; a pool's processes get the variables, never the file.
 * Returns one line per change, for start to print. Nothing to do when no pool has a user.
 */
export function protectEnvFiles(
  pools: Iterable<Pick<Pool, 'name' | 'env'>>,
  identities: ReadonlyMap<string, PoolIdentity>,
  owner: { readonly uid: number; readonly gid: number } = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 },
): string[] {
  if (identities.size === 0) return []
  const poolUids = new Set([...identities.values()].map((identity) => identity.uid))
  const lines: string[] = []
  const done = new Set<string>()
  for (const pool of pools) {
    if (pool.env === null || done.has(pool.env)) continue
    done.add(pool.env)
    const stat = statSync(pool.env)
    const mine = identities.get(pool.name)?.uid
    if (poolUids.has(stat.uid) && stat.uid !== mine) {
      chownSync(pool.env, owner.uid, owner.gid)
      lines.push(
        `pool '${pool.name}': env file ${pool.env} belonged to another pool's user (uid ${stat.uid}): now owned by uid ${owner.uid}`,
      )
    }
    const mode = stat.mode & 0o777
    if ((mode & 0o077) !== 0) {
      chmodSync(pool.env, mode & 0o700)
      lines.push(
        `pool '${pool.name}': env file ${pool.env} was readable by other users (mode ${mode.toString(8)}): now ${(mode & 0o700).toString(8)}`,
      )
    }
  }
  return lines
}

/**
 * Why the user cannot serve its pool (a file it cannot read, an interpreter it cannot
 * run), or null when it can: checked by running as that user, since root's access()
 * answers for root. A fraction of a second per pool: called once, at start.
 */
export function probeAccess(
  identity: PoolIdentity,
  files: readonly string[],
  python: { readonly program: PythonProgram; readonly env: Readonly<Record<string, string | undefined>> } | null,
): string | null {
  const script =
    "const fs = require('node:fs'); const bad = JSON.parse(process.argv[1]).filter((f) => { try { fs.accessSync(f, fs.constants.R_OK); return false } catch { return true } }); process.stdout.write(JSON.stringify(bad))"
  const probe = spawnSync(process.execPath, ['-e', script, JSON.stringify(files)], {
    encoding: 'utf8',
    timeout: 30_000,
    uid: identity.uid,
    gid: identity.gid,
    env: { PATH: process.env.PATH ?? '' },
  })
  if (probe.error) return `cannot run ${process.execPath} (${probe.error.message})`
  if (probe.status !== 0)
    return `cannot run ${process.execPath} (${(probe.stderr ?? '').trim().split('\n').pop() ?? `exit ${probe.status}`})`
  const unreadable = JSON.parse(probe.stdout || '[]') as string[]
  if (unreadable.length > 0) return `cannot read ${unreadable.join(', ')} (a folder on the way is not theirs to enter?): its runs will fail`
  if (python) {
    // The base a pool's worker gets (worker-env.ts), as that user: never the supervisor's
    // own env (the producer's Redis URL, SWITCHYARD_TOKENS), readable by any process of
    // the pool's user in /proc while the probe runs.
    const env = { ...baseEnv(python.env), HOME: identity.home, USER: identity.name, LOGNAME: identity.name }
    const why = probePython(python.program, env, identity)
    if (why) return `cannot run the Python worker: ${why}`
  }
  return null
}

/**
 * The one line `switchyard dev` prints when pools name a `user:` it does not apply: what
 * one user on one machine does not protect. null when no pool names one.
 */
export function devUsersNote(registry: Registry): string | null {
  const named = [...registry.pools.values()].filter((pool) => pool.user !== null).map((pool) => `'${pool.name}'`)
  if (named.length === 0) return null
  return (
    `user: of pool${named.length === 1 ? '' : 's'} ${named.join(', ')} is ignored: dev runs every pool as your own user, so a graph can ` +
    `read ${EXPOSED}, write the registry's folder and signal the other processes; switchyard start, as root, runs each pool as its user (SECURITY.md)`
  )
}

/**
 * Everything `switchyard start` does about pool users before it serves: resolve them,
 * refuse when `require` and any pool would reach the others, keep env files out of other
 * pools' reach. Returns the identities and the lines to print (warnings first).
 */
export function preparePoolUsers(
  registry: Registry,
  options: { readonly require: boolean },
): { identities: ReadonlyMap<string, PoolIdentity>; lines: string[] } {
  const { identities, warnings } = resolvePoolUsers(registry)
  if (options.require && (warnings.length > 0 || identities.size === 0)) {
    const why =
      identities.size === 0 && ![...registry.pools.values()].some((pool) => pool.user !== null)
        ? 'no pool has a user: (switchyard.yaml)'
        : warnings.join('\n')
    throw new Error(`--require-users: every pool must run as an OS user of its own, not root, not shared:\n${why}`)
  }
  return { identities, lines: [...warnings, ...protectEnvFiles(registry.pools.values(), identities)] }
}
