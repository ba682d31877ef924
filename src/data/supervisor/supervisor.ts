// The supervisor behind `switchyard dev` and `switchyard start`: forks each node pool's
// `processes` worker processes (own env, own heap cap), restarts a crashed one with
// exponential backoff — a pool crash-looping never stops the others — and keeps a
// status table (pool, processes up, in-flight, queued, failures).
// With the memory broker, workers are fed over IPC (ipc-parent.ts); with Redis they
// consume their queue directly and the supervisor only keeps them alive.
// Runtime-python pools get `python3 -m switchyard_worker` processes (python/), with
// the same env rules, reading the registry this process resolved (its resolved JSON
// form: one set of registry rules). Workers never hold the cache key: each is given the
// SHA-256 of the registry text this process wrote or verified (SWITCHYARD_REGISTRY_SHA256,
// SWITCHYARD_COMPILED_SHA256) and reads that file only while it still hashes to it. On the memory broker they speak the same IPC
// protocol as node workers, as JSON lines on their fd 3; their stdin is a lifeline:
// it closes when the supervisor dies.
import { fork, spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import type { Pool, Registry } from '../../control/index.js'
import type { Broker, PoolStats } from '../broker/index.js'
import type { VerifyKeys } from '../envelope-keys.js'
import { linkChild, type ChildLink } from '../broker/memory/index.js'
import type { MemoryBroker } from '../broker/memory/index.js'
import { verifiedCompiledSha256, writeResolvedRegistry } from '../../control/tooling/index.js'
import type { Duplex } from 'node:stream'
import { ndjsonChannel } from '../broker/memory/index.js'
import type { CpuPolicy } from './cpu-policy.js'
import { probeAccess, type PoolIdentity } from './pool-user.js'
import type { PythonProgram } from './python-program.js'
import { renderStatus, restartDelay, type PoolStatus } from './status.js'
import { REDIS_URL_ENV, workerEnv } from './worker-env.js'

export type SupervisorEvent =
  | { readonly type: 'spawn'; readonly pool: string; readonly pid: number }
  | {
      readonly type: 'exit'
      readonly pool: string
      readonly pid: number
      readonly code: number | null
      readonly signal: string | null
      readonly expected: boolean
    }
  | { readonly type: 'restart'; readonly pool: string; readonly delayMs: number; readonly crashes: number }
  | { readonly type: 'error'; readonly pool: string; readonly message: string }

export interface SupervisorOptions {
  readonly registry: Registry
  /** `memory`: children are fed over IPC from this broker. `redis`: children consume Redis themselves. */
  readonly broker: { readonly kind: 'memory'; readonly broker: MemoryBroker } | { readonly kind: 'redis'; readonly broker: Broker }
  /** The worker program: forked once per process, with `args(pool)`. */
  readonly worker: { readonly module: string; readonly args: (pool: Pool) => string[]; readonly execArgv?: readonly string[] }
  /** The worker program of runtime-python pools (see pythonProgram()). Absent: python pools are not served. */
  readonly python?: PythonProgram
  /** The public keys workers verify envelopes with (SWITCHYARD_VERIFY_KEYS); null: they check no signature. */
  readonly verifyKeys: VerifyKeys | null
  /** OTLP receiver for workers whose env file sets none (the embedded gateway's). */
  readonly tracesUrl?: string | null
  /** Variables added to every worker's env. */
  readonly extraEnv?: Readonly<Record<string, string>>
  /** Variables for one pool's workers only (its trace-ingest credential). */
  readonly poolEnv?: (pool: Pool) => Readonly<Record<string, string>>
  /**
   * The Redis every pool shares (`start --redis`): only a pool without Redis credentials
   * of its own gets it (SWITCHYARD_REDIS_URL), with a warning, once per pool.
   */
  readonly sharedRedis?: string | null
  /**
   * The OS user each pool's processes run as (`start`: resolvePoolUsers()); a pool absent
   * runs as this process's user. Needs root.
   */
  readonly users?: ReadonlyMap<string, PoolIdentity>
  /** Parent env read for the minimal base (PATH, HOME, …). @default process.env */
  readonly parentEnv?: Readonly<Record<string, string | undefined>>
  /**
   * What bounds a crashing pool's CPU (`start`: openCpuPolicy()): told of each process
   * started and each crash. Absent: nothing.
   */
  readonly cpu?: CpuPolicy
  /** @default { initialMs: 500, maxMs: 30000, resetAfterMs: 10000 } */
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number; readonly resetAfterMs: number }
  /** Grace for SIGTERM on stop before SIGKILL. @default 10000 */
  readonly stopTimeoutMs?: number
  /** Each line a worker writes. @default to stderr, prefixed with `[pool pid]` */
  readonly output?: (pool: string, pid: number, line: string) => void
  readonly onEvent?: (event: SupervisorEvent) => void
}

export interface Supervisor {
  /** One row per pool, as of now. */
  status(): Promise<PoolStatus[]>
  /** The status table, rendered. */
  table(): Promise<string>
  /** Pids of the pool's live worker processes. */
  pids(pool: string): number[]
  /** SIGTERM every worker (they drain), SIGKILL after the timeout; no restarts. */
  stop(): Promise<void>
}

interface Slot {
  readonly pool: Pool
  child: ChildProcess | null
  link: ChildLink | null
  startedAt: number
  consecutive: number
  timer: NodeJS.Timeout | null
  note: string
}

const DEFAULT_BACKOFF = { initialMs: 500, maxMs: 30_000, resetAfterMs: 10_000 }

/**
 * A node worker never holds the cache key (issue 12.3), so it reads the compiled registry
 * only when its text is the one verified here under the key, now (a pool's graph may have
 * rewritten it since): else it compiles the registry file itself. Set after the pool's env
 * file, which must not choose it.
 */
function compiledEnv(env: Record<string, string>, source: string): Record<string, string> {
  const verified = verifiedCompiledSha256(source)
  const { SWITCHYARD_COMPILED_SHA256: _ignored, ...rest } = env
  return verified ? { ...rest, SWITCHYARD_COMPILED_SHA256: verified } : rest
}

function heapArgs(pool: Pool): string[] {
  return pool.memoryBytes === null ? [] : [`--max-old-space-size=${Math.floor(pool.memoryBytes / 1024 / 1024)}`]
}

/**
 * Start every node pool's worker processes.
 *
 * @example
 * const supervisor = startSupervisor({ registry, broker: { kind: 'memory', broker }, verifyKeys,
 *   worker: { module: '/…/cli/worker.js', args: (pool) => ['--pool', pool.name, '--ipc'] } })
 * console.log(await supervisor.table())
 * await supervisor.stop()
 */
export function startSupervisor(options: SupervisorOptions): Supervisor {
  const backoff = options.backoff ?? DEFAULT_BACKOFF
  const emit = options.onEvent ?? (() => undefined)
  const output = options.output ?? ((pool, pid, line) => process.stderr.write(`[${pool} ${pid}] ${line}\n`))
  const slots: Slot[] = []
  const crashes = new Map<string, number>()
  const skipped = new Map<string, string>()
  const warnedShared = new Set<string>()
  let stopping = false

  const python = options.python
  // Python workers read the registry as this process resolved it, never the YAML.
  const hasPython = python !== undefined && [...options.registry.pools.values()].some((pool) => pool.runtime === 'python')
  const resolved = hasPython ? writeResolvedRegistry(options.registry) : null
  // A pool user who cannot read the worker, the registry or a graph, or run the
  // interpreter (one under /root, say), would crash-loop in silence: said once, here.
  for (const [name, identity] of options.users ?? []) {
    const pool = options.registry.pools.get(name)
    if (!pool) continue
    const files = [options.registry.source, ...(resolved && pool.runtime === 'python' ? [resolved.file] : [])]
    for (const workflow of options.registry.workflows.values()) if (workflow.pool === name) files.push(workflow.graph.module)
    if (pool.runtime === 'node') files.push(options.worker.module)
    const problem = probeAccess(
      identity,
      files,
      pool.runtime === 'python' && python ? { program: python, env: options.parentEnv ?? process.env } : null,
    )
    if (problem) output(name, 0, `WARNING: pool '${name}' runs as user ${identity.name}, who ${problem}`)
  }
  for (const pool of options.registry.pools.values()) {
    if (pool.runtime !== 'node' && !(pool.runtime === 'python' && python)) {
      skipped.set(pool.name, `runtime ${pool.runtime}: not served yet (no workers started)`)
      continue
    }
    crashes.set(pool.name, 0)
    for (let i = 0; i < pool.processes; i++) {
      const slot: Slot = { pool, child: null, link: null, startedAt: 0, consecutive: 0, timer: null, note: '' }
      slots.push(slot)
      spawnSlot(slot)
    }
  }

  function scheduleRestart(slot: Slot): void {
    if (stopping) return
    const lived = Date.now() - slot.startedAt
    slot.consecutive = lived >= backoff.resetAfterMs ? 1 : slot.consecutive + 1
    const delayMs = restartDelay(slot.consecutive, backoff)
    slot.note = `restarting in ${delayMs < 1000 ? `${delayMs}ms` : `${Math.round(delayMs / 1000)}s`}`
    emit({ type: 'restart', pool: slot.pool.name, delayMs, crashes: slot.consecutive })
    slot.timer = setTimeout(() => {
      slot.timer = null
      spawnSlot(slot)
    }, delayMs)
  }

  function spawnSlot(slot: Slot): void {
    if (stopping) return
    const pool = slot.pool
    slot.startedAt = Date.now()
    let child: ChildProcess
    try {
      const identity = options.users?.get(pool.name) ?? null
      const { env, sharedRedis } = workerEnv({
        pool,
        identity,
        parent: options.parentEnv,
        verifyKeys: options.verifyKeys?.toString() ?? null,
        config: options.registry.source,
        tracesUrl: options.tracesUrl ?? null,
        extra: { ...options.extraEnv, ...options.poolEnv?.(pool) },
        sharedRedis: options.sharedRedis ?? null,
      })
      if (sharedRedis && !warnedShared.has(pool.name)) {
        warnedShared.add(pool.name)
        output(
          pool.name,
          0,
          `WARNING: pool '${pool.name}' has no Redis credentials of its own, so its processes get the shared --redis URL ` +
            `(the producer's): a graph of this pool can read or fake any pool's runs. Give it an ACL user of its own ` +
            `(${REDIS_URL_ENV} in its env file; 'switchyard acl' prints one) or a redis: of its own.`,
        )
      }
      const ipc = options.broker.kind === 'memory'
      // Node's spawn as root drops every supplementary group before setgid/setuid (libuv).
      const as = identity ? { uid: identity.uid, gid: identity.gid } : {}
      child =
        pool.runtime === 'python' && python
          ? // stdin stays open and unused: the worker drains when it closes (this process died).
            // On the memory broker, fd 3 is its channel for runs (JSON lines, ipc-protocol.ts).
            spawn(python.command, [...python.args(pool), ...(ipc ? ['--ipc'] : [])], {
              env: {
                ...env,
                PYTHONPATH: python.path,
                ...(resolved ? { SWITCHYARD_REGISTRY: resolved.file, SWITCHYARD_REGISTRY_SHA256: resolved.sha256 } : {}),
              },
              stdio: ipc ? ['pipe', 'pipe', 'pipe', 'pipe'] : ['pipe', 'pipe', 'pipe'],
              ...as,
            })
          : fork(options.worker.module, options.worker.args(pool), {
              env: compiledEnv(env, options.registry.source),
              execArgv: [...(options.worker.execArgv ?? []), ...heapArgs(pool)],
              stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
              ...as,
            })
    } catch (error) {
      crashes.set(pool.name, (crashes.get(pool.name) ?? 0) + 1)
      emit({ type: 'error', pool: pool.name, message: (error as Error).message })
      output(pool.name, 0, `cannot start a worker: ${(error as Error).message}`)
      scheduleRestart(slot)
      return
    }
    slot.child = child
    slot.note = ''
    const pid = child.pid ?? 0
    // Placed (or lowered) at once: its start-up, a third of a second of CPU, counts too.
    if (pid !== 0) options.cpu?.started(pool.name, pid, slot.consecutive > 0)
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue
      createInterface({ input: stream }).on('line', (line) => output(pool.name, pid, line))
    }
    if (options.broker.kind === 'memory') {
      const broker = options.broker.broker
      const channel =
        pool.runtime === 'python'
          ? ndjsonChannel(child.stdio[3] as Duplex, { onError: (message) => output(pool.name, pid, `IPC: ${message}`) })
          : undefined
      slot.link = linkChild(child, broker.source(pool.name), { queued: () => broker.depth(pool.name), ...(channel ? { channel } : {}) })
    }
    child.on('error', (error) => {
      emit({ type: 'error', pool: pool.name, message: error.message })
      // A program that never started (python3 missing: ENOENT) emits no 'exit': count it as a crash here.
      if (child.pid !== undefined || slot.child !== child || stopping) return
      slot.child = null
      crashes.set(pool.name, (crashes.get(pool.name) ?? 0) + 1)
      output(pool.name, 0, `cannot start a worker: ${error.message}`)
      scheduleRestart(slot)
    })
    child.once('exit', (code, signal) => {
      const expected = stopping
      emit({ type: 'exit', pool: pool.name, pid, code, signal, expected })
      if (slot.child === child) {
        slot.child = null
        slot.link = null
      }
      if (expected) return
      crashes.set(pool.name, (crashes.get(pool.name) ?? 0) + 1)
      options.cpu?.misbehaved(pool.name)
      output(pool.name, pid, `worker exited unexpectedly (${signal ? `signal ${signal}` : `code ${code}`})`)
      // On Redis, its runs are handed on now, each counted as a crash, not once its heartbeat expires
      // (seconds): a run that keeps killing its workers is dead-lettered WORKER_CRASHED within a short deadline too.
      if (options.broker.kind === 'redis') {
        options.broker.broker
          .workerExited(pool.name, pid, signal ? `was killed by ${signal}` : `exited with code ${code}`)
          .catch((error: unknown) =>
            output(pool.name, pid, `could not hand on its runs now (its heartbeat will): ${(error as Error).message}`),
          )
      }
      scheduleRestart(slot)
    })
    emit({ type: 'spawn', pool: pool.name, pid })
  }

  /** `restarting in …` while waiting; `restarted after n crashes` until the process proves healthy. */
  function noteOf(slot: Slot): string {
    if (slot.timer) return slot.note
    if (slot.consecutive > 0 && Date.now() - slot.startedAt < backoff.resetAfterMs) {
      return `restarted after ${slot.consecutive} crash${slot.consecutive === 1 ? '' : 'es'}`
    }
    return ''
  }

  async function stats(): Promise<Map<string, PoolStats>> {
    try {
      return new Map((await options.broker.broker.stats()).map((s) => [s.pool, s]))
    } catch {
      return new Map()
    }
  }

  const supervisor: Supervisor = {
    async status() {
      const byPool = await stats()
      return [...options.registry.pools.values()].map((pool): PoolStatus => {
        const mine = slots.filter((s) => s.pool.name === pool.name)
        const s = byPool.get(pool.name)
        const links = mine.map((slot) => slot.link?.inFlight() ?? 0).reduce((a, b) => a + b, 0)
        return {
          pool: pool.name,
          up: mine.filter((slot) => slot.child !== null && slot.child.exitCode === null).length,
          wanted: mine.length,
          inFlight: options.broker.kind === 'memory' ? links : (s?.running ?? 0),
          queued: s?.queued ?? 0,
          failed: s?.failed ?? 0,
          crashes: crashes.get(pool.name) ?? 0,
          note: skipped.get(pool.name) ?? mine.map(noteOf).find((note) => note !== '') ?? '',
        }
      })
    },
    async table() {
      return renderStatus(await supervisor.status())
    },
    pids(pool) {
      return slots.filter((s) => s.pool.name === pool && s.child?.pid !== undefined && s.child.exitCode === null).map((s) => s.child!.pid!)
    },
    async stop() {
      stopping = true
      const timeoutMs = options.stopTimeoutMs ?? 10_000
      await Promise.all(
        slots.map(async (slot) => {
          if (slot.timer) clearTimeout(slot.timer)
          slot.timer = null
          const child = slot.child
          const link = slot.link
          if (!child || child.exitCode !== null || child.signalCode !== null) return
          const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
          child.kill('SIGTERM')
          const timer = setTimeout(() => {
            output(slot.pool.name, child.pid ?? 0, `did not stop within ${timeoutMs / 1000} s of SIGTERM: killed`)
            child.kill('SIGKILL')
          }, timeoutMs)
          await exited
          clearTimeout(timer)
          await link?.closed
        }),
      )
    },
  }
  return supervisor
}
