// How a faulty pool is kept off the CPU its neighbours, the gateway and Redis need
// (`switchyard start`). A busy-looping or heap-thrashing pool burns cores; nice 19 on its
// main thread (the worker's watchdog) leaves its GC and helper threads at full priority,
// and a worker restarted after a crash started again at full priority, paying Node's
// start-up (a third of a second of CPU) each time.
//
// Where the machine has a writable cgroup v1 `cpu` controller (root, or a delegated
// folder), every pool gets a CPU group of its own, under one group for this `start`:
// all of a process's threads count, each pool weighs as one (however many processes
// it has), the gateway and Redis stay outside. A pool whose worker crashed (its heap
// cap, the watchdog's kill of a busy loop, process.exit) drops to an eighth of a normal
// pool's weight until it has gone a while without: a weight, not a cap, so it still has
// every core nobody else wants, and recovers even on a saturated machine (cpu.shares 2
// starved restarts there, and a starved worker's watchdog then saw a blocked loop).
// A pool's `cpu:` (registry) caps all of its processes together, the way container
// platforms cap a service: a CFS quota on its group (cpu.cfs_quota_us per
// cpu.cfs_period_us), so even a busy loop in every process of it leaves the other cores
// to the gateway, Redis and the neighbours. Without groups a cap cannot be applied: the
// description says which pools' caps are not.
// A loop that blocks without crashing is the watchdog's (nice 19 on that thread). Elsewhere (cgroup v2, no
// permission, not Linux) the fallback is per process: a worker restarted after a crash
// runs every thread at nice 19 until it has lived that quiet time (lowering always
// works; raising it back needs root or CAP_SYS_NICE, else it stays low). Never fatal:
// `start` runs without either and says why.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs'
import { getPriority, setPriority } from 'node:os'
import { join } from 'node:path'

export interface CpuPolicy {
  /** One line for the operator: what bounds a faulty pool's CPU here, or why nothing does. */
  readonly description: string
  /** Where the pools' CPU groups are (a folder), or null without cgroups. */
  readonly groupsDir: string | null
  /** A pool's process started; `afterCrash`: it replaces one that crashed. */
  started(pool: string, pid: number, afterCrash: boolean): void
  /** A pool's process crashed. */
  misbehaved(pool: string): void
  /** Stop the timers and remove the CPU groups (once the pools' processes have exited). */
  close(): void
}

/** cpu.shares of a pool that behaves: each pool weighs as one process at nice 0. */
export const NORMAL_SHARES = 1024
/** cpu.shares of a pool whose worker crashed lately: an eighth of a normal pool. */
export const PENALTY_SHARES = 128
/** Nice of a worker restarted after a crash, without CPU groups. */
export const PENALTY_NICE = 19
/** cpu.cfs_period_us a pool's cap is a quota of (the kernel's default period, 100 ms). */
export const CFS_PERIOD_US = 100_000

const GROUP_PREFIX = 'switchyard-'

export interface CpuPolicyOptions {
  readonly pools: readonly string[]
  /** Pools with a `cpu:` cap: cores for all of the pool's processes together. */
  readonly caps?: ReadonlyMap<string, number>
  /** How long a pool must go without misbehaving to be given its normal CPU weight back. */
  readonly quietMs: number
  /**
   * SWITCHYARD_CPU_CGROUP: `off` (the nice fallback only), a cgroup v1 `cpu` folder to
   * make the groups in, or unset (this process's own cpu cgroup, found in /proc).
   */
  readonly setting?: string
  /** Told when a write fails after start (a group removed under us): the pool runs on, unbounded. */
  readonly warn?: (message: string) => void
}

/** The CPU policy for these pools: per-pool cgroups where the machine allows it, else nice after a crash. */
export function openCpuPolicy(options: CpuPolicyOptions): CpuPolicy {
  const found = options.setting === 'off' ? { reason: 'SWITCHYARD_CPU_CGROUP=off' } : cpuCgroupFolder(options.setting)
  if ('folder' in found) {
    try {
      return cgroupPolicy(found.folder, options)
    } catch (error) {
      return nicePolicy(options, `cannot make CPU groups in ${found.folder} (${(error as Error).message})`)
    }
  }
  return nicePolicy(options, found.reason)
}

/** The folder of this process's cgroup in a mounted cgroup v1 `cpu` hierarchy, or why there is none. */
function cpuCgroupFolder(setting: string | undefined): { folder: string } | { reason: string } {
  if (setting !== undefined && setting !== '') {
    return existsSync(join(setting, 'cpu.shares')) ? { folder: setting } : { reason: `${setting} has no cpu.shares` }
  }
  if (process.platform !== 'linux') return { reason: `no cgroups on ${process.platform}` }
  let mountinfo: string
  let own: string
  try {
    mountinfo = readFileSync('/proc/self/mountinfo', 'utf8')
    own = readFileSync('/proc/self/cgroup', 'utf8')
  } catch (error) {
    return { reason: `cannot read /proc (${(error as Error).message})` }
  }
  // mountinfo: id parent major:minor root mountpoint options [optional…] - fstype source superoptions
  let mount: { point: string; root: string } | undefined
  for (const line of mountinfo.split('\n')) {
    const [left, right] = line.split(' - ')
    const [fstype, , superOptions] = right?.split(' ') ?? []
    const fields = left?.split(' ') ?? []
    if (fstype === 'cgroup' && superOptions?.split(',').includes('cpu') && fields[3] && fields[4]) {
      mount = { root: unescapeMount(fields[3]), point: unescapeMount(fields[4]) }
      break
    }
  }
  if (!mount) return { reason: 'no cgroup v1 cpu controller is mounted (cgroup v2 has no cpu.shares; cpu.weight is not used yet)' }
  // /proc/self/cgroup: hierarchy-id:controllers:path
  const path = own
    .split('\n')
    .map((line) => line.split(':'))
    .find(([, controllers]) => controllers?.split(',').includes('cpu'))?.[2]
  if (path === undefined) return { reason: 'this process is in no cpu cgroup' }
  const inside = path.startsWith(mount.root) ? path.slice(mount.root === '/' ? 0 : mount.root.length) : path
  return { folder: join(mount.point, inside) }
}

function unescapeMount(text: string): string {
  return text.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)))
}

function cgroupPolicy(base: string, options: CpuPolicyOptions): CpuPolicy {
  removeStaleGroups(base)
  const dir = join(base, `${GROUP_PREFIX}${process.pid}`)
  mkdirSync(dir)
  const groups = new Map<string, string>()
  try {
    for (const pool of options.pools) {
      const group = join(dir, pool)
      mkdirSync(group)
      writeFileSync(join(group, 'cpu.shares'), String(NORMAL_SHARES))
      const cores = options.caps?.get(pool)
      if (cores !== undefined) {
        writeFileSync(join(group, 'cpu.cfs_period_us'), String(CFS_PERIOD_US))
        writeFileSync(join(group, 'cpu.cfs_quota_us'), String(quotaUs(cores)))
      }
      groups.set(pool, group)
    }
  } catch (error) {
    removeGroups(dir)
    throw error
  }
  const warn = options.warn ?? (() => undefined)
  const timers = new Map<string, NodeJS.Timeout>()
  const setShares = (pool: string, shares: number) => {
    const group = groups.get(pool)
    if (group === undefined) return
    try {
      writeFileSync(join(group, 'cpu.shares'), String(shares))
    } catch (error) {
      warn(`pool '${pool}': cannot set cpu.shares ${shares} (${(error as Error).message})`)
    }
  }
  const capped = [...(options.caps ?? [])].filter(([pool]) => groups.has(pool))
  return {
    description:
      `each pool's processes in a CPU group of their own (cgroup v1 cpu, ${dir}); a pool whose worker crashed ` +
      `runs at cpu.shares ${PENALTY_SHARES} (not ${NORMAL_SHARES}) until ${Math.round(options.quietMs / 1000)} s without it; ` +
      (capped.length === 0
        ? 'no pool has a cpu: cap'
        : `capped (cpu.cfs_quota_us per ${CFS_PERIOD_US}): ${capped.map(([pool, cores]) => `${pool} ${cores} cores`).join(', ')}`),
    groupsDir: dir,
    started(pool, pid) {
      const group = groups.get(pool)
      if (group === undefined) return
      try {
        // Every thread of the process moves (cgroup.procs); its later children start inside.
        writeFileSync(join(group, 'cgroup.procs'), String(pid))
      } catch (error) {
        // Exited already (ESRCH), or the group was removed: its exit or the next start says more.
        if ((error as NodeJS.ErrnoException).code !== 'ESRCH')
          warn(`pool '${pool}': process ${pid} is in no CPU group (${(error as Error).message})`)
      }
    },
    misbehaved(pool) {
      if (!groups.has(pool)) return
      clearTimeout(timers.get(pool))
      if (!timers.has(pool)) setShares(pool, PENALTY_SHARES)
      const timer = setTimeout(() => {
        timers.delete(pool)
        setShares(pool, NORMAL_SHARES)
      }, options.quietMs)
      timer.unref()
      timers.set(pool, timer)
    },
    close() {
      for (const timer of timers.values()) clearTimeout(timer)
      timers.clear()
      removeGroups(dir)
    },
  }
}

/** A cap in cores as a CFS quota per CFS_PERIOD_US (at least the kernel's 1 ms). */
function quotaUs(cores: number): number {
  return Math.max(1000, Math.round(cores * CFS_PERIOD_US))
}

/** Remove a `start`'s CPU groups: only empty ones can go (rmdir refuses a group with processes). */
function removeGroups(dir: string): void {
  try {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) rmdirSync(join(dir, entry.name))
    }
    rmdirSync(dir)
  } catch {
    // A process still inside (a worker that outlived a kill -9 of start): the next start removes it.
  }
}

/** Groups of a `start` that was killed: removed once their processes are gone. */
function removeStaleGroups(base: string): void {
  let entries: string[]
  try {
    entries = readdirSync(base)
  } catch {
    return
  }
  for (const name of entries) {
    const pid = Number(name.slice(GROUP_PREFIX.length))
    if (!name.startsWith(GROUP_PREFIX) || !Number.isInteger(pid) || pid <= 0 || pid === process.pid || alive(pid)) continue
    removeGroups(join(base, name))
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Every thread of a process (Linux nice is per thread), or just the process elsewhere. A
 * thread is started with its parent's nice: one started while a pass runs, by a thread the
 * pass had not reached, is missed by it (a process starting up starts threads all the
 * time). So passes repeat until one finds every thread at `nice`; from then on every new
 * thread inherits it. A thread that ends during a pass is no error; the process ending is.
 */
function setAllThreads(pid: number, nice: number): void {
  for (let pass = 0; pass < MAX_PASSES; pass++) {
    let threads: number[] = [pid]
    try {
      threads = readdirSync(`/proc/${pid}/task`).map(Number)
    } catch {
      // Not Linux, or gone: the process alone.
    }
    let changed = false
    for (const tid of threads) {
      try {
        if (getPriority(tid) === nice) continue
        setPriority(tid, nice)
        changed = true
      } catch (error) {
        if (tid === pid) throw error
      }
    }
    if (!changed) return
  }
}

/** Passes of setAllThreads at most: a process that starts threads faster than a pass is not chased for ever. */
const MAX_PASSES = 20

function nicePolicy(options: CpuPolicyOptions, reason: string): CpuPolicy {
  const timers = new Set<NodeJS.Timeout>()
  const caps = [...(options.caps ?? [])]
  return {
    description:
      `no per-pool CPU groups (${reason}): a worker restarted after a crash runs at nice ${PENALTY_NICE} ` +
      `until it has lived ${Math.round(options.quietMs / 1000)} s` +
      (caps.length === 0 ? '' : `; cpu: caps NOT applied: ${caps.map(([pool, cores]) => `${pool} ${cores} cores`).join(', ')}`),
    groupsDir: null,
    started(_pool, pid, afterCrash) {
      if (!afterCrash) return
      let before: number
      try {
        before = getPriority(pid)
        setAllThreads(pid, PENALTY_NICE)
      } catch {
        return
      }
      const timer = setTimeout(() => {
        timers.delete(timer)
        try {
          setAllThreads(pid, before)
        } catch {
          // Raising priority needs root or CAP_SYS_NICE: the process stays low, or is gone.
        }
      }, options.quietMs)
      timer.unref()
      timers.add(timer)
    },
    misbehaved() {},
    close() {
      for (const timer of timers) clearTimeout(timer)
      timers.clear()
    },
  }
}
