// The chaos suite: each scenario puts one fault on the rig (chaos/rig.ts) while the
// neighbour pool serves steady traffic, then counts, from the callers' answers, the
// runs' final records and the graphs' own ledger: runs accepted, succeeded, failed by
// code, lost (accepted but unknown or never finished), executed twice (a second run for
// one submission, or a run that finished its work twice), the neighbour's latency with
// and without the fault (measured side by side, the baseline just before the fault),
// and how long the faulty pool took to serve a run again.
import { fork } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

import { setPriority } from 'node:os'

import type { CallerBatch } from './callers.js'
import type { Rig } from './rig.js'
import { percentile, settle, submit, type RunView, type Submission } from './clients.js'

const NEIGHBOUR = fileURLToPath(new URL('./neighbour.ts', import.meta.url))
const CALLERS = fileURLToPath(new URL('./callers.ts', import.meta.url))

/** Nice value of the faulty pool's callers (callers.ts): below the rig's processes, as callers elsewhere would be. */
const CALLERS_NICE = 10

interface Callers {
  /** Send one batch: `sending` once it has begun, `answers` with every answer. One batch at a time. */
  send(batch: CallerBatch): { sending: Promise<void>; answers: Promise<Submission[]> }
  close(): void
}

/**
 * The callers' process (callers.ts), started and ready before a scenario's windows: its
 * start-up (node with tsx, half a second of CPU) is not counted as the fault's.
 */
async function openCallers(): Promise<Callers> {
  const child = fork(CALLERS, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  try {
    if (child.pid !== undefined) setPriority(child.pid, CALLERS_NICE)
  } catch {
    // A machine that does not allow it measures with the callers at full priority.
  }
  let exited: (code: number | null) => void = () => undefined
  child.once('exit', (code) => exited(code))
  await new Promise<void>((resolve, reject) => {
    exited = (code) => reject(new Error(`the callers' process exited (${code}) before it was ready`))
    child.once('message', () => resolve())
  })
  return {
    send(batch) {
      const answers = new Promise<Submission[]>((resolve, reject) => {
        exited = (code) => reject(new Error(`the callers' process exited (${code}) without their answers`))
        child.once('message', (message) => resolve(message as Submission[]))
      })
      child.send(batch)
      return { sending: Promise.resolve(), answers }
    },
    close() {
      exited = () => undefined
      if (child.connected) child.send('done')
    },
  }
}

/** CPU time (user + system, ms) a process has used, from /proc (Linux); null elsewhere or once it is gone. */
function cpuMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100
  } catch {
    return null
  }
}

/** Ms a thread has waited on a run queue (runnable, not running), from /proc/PID/schedstat (Linux); null elsewhere. */
function runQueueMs(pid: number): number | null {
  try {
    // schedstat: ns on the CPU, ns waiting on a run queue, time slices. The main thread's: the event loop's.
    return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[1]) / 1e6
  } catch {
    return null
  }
}

export interface Shares {
  readonly gateway: number | null
  readonly redis: number | null
}

/** What the shared parts burn and wait over a window (one meter per window). */
export interface WindowMeter {
  /** The gateway's process and Redis, in % of one core. */
  readonly cpu: Shares
  /**
   * Ms per second the main thread of the gateway, Redis and the neighbour's worker waited
   * for a CPU while runnable: a neighbour request's time spent queued behind other work.
   */
  readonly runQueue: Shares & { readonly neighbour: number | null }
  /**
   * The gateway's longest event-loop stall in the window, ms: its /metrics'
   * nodejs_eventloop_lag_max_seconds at the window's end, the scrape at its start having
   * reset it (src/observe/metrics processMetrics: the gap between two 10 ms ticks, so
   * about 11 on an idle loop). Null: the gateway restarted, did not answer, or does not
   * serve it (a build before it did).
   */
  readonly loopMaxMs: number | null
  /** The machine's 1-minute load average at the window's end. */
  readonly load: number
}

/**
 * The gateway's nodejs_eventloop_lag_max_seconds, in ms, from a scrape of its /metrics
 * (which resets it: the next scrape's covers the time since), or null.
 */
async function gatewayLoopMaxMs(rig: Rig): Promise<number | null> {
  try {
    const text = await (await fetch(`${rig.url}/metrics`, { signal: AbortSignal.timeout(2000) })).text()
    const value = /^nodejs_eventloop_lag_max_seconds (\S+)$/m.exec(text)?.[1]
    return value === undefined ? null : Math.round(Number(value) * 1000)
  } catch {
    return null
  }
}

/** Meter the shared parts (the gateway's process, Redis, the neighbour's worker) from now until it is called. */
async function cpuMeter(rig: Rig): Promise<() => Promise<WindowMeter>> {
  // Before the CPU is read: the start scrape's own cost is not the window's.
  await gatewayLoopMaxMs(rig)
  const started = performance.now()
  const gatewayPid = rig.gatewayPid()
  const redisPid = rig.redis.pid
  const neighbourPid = rig.workers('neighbour').at(-1) ?? 0
  const gateway0 = cpuMs(gatewayPid)
  const redis0 = cpuMs(redisPid)
  const waits0 = [gatewayPid, redisPid, neighbourPid].map(runQueueMs)
  return async () => {
    const elapsed = performance.now() - started
    const share = (before: number | null, after: number | null) =>
      before === null || after === null ? null : Math.round(((after - before) / elapsed) * 100)
    const perSecond = (before: number | null, after: number | null) =>
      before === null || after === null ? null : Math.round(((after - before) / elapsed) * 1000)
    const same = [rig.gatewayPid() === gatewayPid, rig.redis.pid === redisPid, rig.workers('neighbour').includes(neighbourPid)]
    const waits = [gatewayPid, redisPid, neighbourPid].map((pid, i) => (same[i] ? perSecond(waits0[i] ?? null, runQueueMs(pid)) : null))
    let load = Number.NaN
    try {
      load = Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0])
    } catch {
      // Not Linux.
    }
    const cpu = {
      gateway: same[0] ? share(gateway0, cpuMs(gatewayPid)) : null,
      redis: same[1] ? share(redis0, cpuMs(redisPid)) : null,
    }
    // After the CPU is read (the end scrape is not the window's either), and only from the gateway that began it.
    const loopMaxMs = await gatewayLoopMaxMs(rig)
    return {
      cpu,
      runQueue: { gateway: waits[0] ?? null, redis: waits[1] ?? null, neighbour: waits[2] ?? null },
      loopMaxMs: rig.gatewayPid() === gatewayPid ? loopMaxMs : null,
      load,
    }
  }
}

interface TrafficResult {
  latencies: number[]
  failures: number
  /** What the first failures got (clients.ts steadyTraffic). */
  failed: string[]
  sent: number
}

/** Start the neighbour's steady traffic in a process of its own (neighbour.ts); resolves once it is sending. */
async function neighbourTraffic(url: string, everyMs: number): Promise<{ stop(): Promise<TrafficResult> }> {
  const child = fork(NEIGHBOUR, [url, String(everyMs), 'neighbour.echo'], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve())
    child.once('exit', (code) => reject(new Error(`the neighbour's client process exited (${code}) before sending`)))
  })
  return {
    stop: () =>
      new Promise<TrafficResult>((resolve, reject) => {
        child.removeAllListeners('exit')
        child.once('message', (result) => resolve(result as TrafficResult))
        child.once('exit', (code) => reject(new Error(`the neighbour's client process exited (${code}) without its figures`)))
        child.send('stop')
      }),
  }
}

export interface Scale {
  readonly name: 'short' | 'full' | 'bench'
  /** Neighbour-only window before each fault. */
  readonly baselineMs: number
  /**
   * A pool fault (one without a process fault's act) sends its runs again, batch after
   * batch, each once the last one's runs have ended, until its window has lasted this
   * long: a fault whose runs end at once (a throw, a schema-breaking output) otherwise
   * gives the neighbour a window of 1 s, and a "p99" of 20 samples is their maximum.
   */
  readonly faultMinMs: number
  /** Runs per pool fault. */
  readonly poolRuns: number
  /** Runs per process fault (half with an Idempotency-Key, half without). */
  readonly processRuns: number
  /** How long Redis stays down. */
  readonly redisOutageMs: number
  /** How long the gateway stays down. */
  readonly gatewayOutageMs: number
  /** Flood size (the faulty pool's maxQueued is 40). */
  readonly flood: number
  /** Neighbour request interval. */
  readonly neighbourEveryMs: number
  readonly only?: readonly string[]
}

export const SHORT: Scale = {
  name: 'short',
  baselineMs: 2000,
  faultMinMs: 0,
  poolRuns: 4,
  processRuns: 8,
  redisOutageMs: 3000,
  gatewayOutageMs: 1500,
  flood: 120,
  neighbourEveryMs: 100,
  only: ['throw', 'spin', 'exit', 'kill-worker', 'kill-redis', 'kill-gateway', 'kill-start'],
}

export const FULL: Scale = {
  name: 'full',
  baselineMs: 6000,
  faultMinMs: 6000,
  poolRuns: 12,
  processRuns: 40,
  redisOutageMs: 15_000,
  gatewayOutageMs: 5000,
  flood: 500,
  neighbourEveryMs: 50,
}

/**
 * bench/neighbour: FULL with windows long enough for a p99 (≥ 200 samples at one request
 * every 50 ms in each, 12 s: the 99th percentile is then the 2nd–3rd slowest, not the
 * slowest of a handful). The table (FULL) keeps 6 s windows so `npm run chaos` stays short.
 */
export const BENCH: Scale = { ...FULL, name: 'bench', baselineMs: 12_000, faultMinMs: 12_000 }

interface Context {
  readonly rig: Rig
  readonly scale: Scale
  /** A process fault records each worker it killed here (pid, when). */
  readonly kills: { pid: number; at: number }[]
}

/** A run whose worker died under it this many times is dead-lettered WORKER_CRASHED (the brokers' default the rig runs with). */
export const MAX_CRASHES = 2

/**
 * How every accepted run of a scenario must end:
 * - `succeed`: each succeeds (process faults: a run killed once is retried and succeeds);
 * - a code: each fails with it;
 * - `crash`: the graph kills its worker (directly, or the watchdog past its deadline). A run
 *   the graph started never ends DEADLINE_EXCEEDED (its worker died under it: WORKER_LOST,
 *   or WORKER_CRASHED once it has done so MAX_CRASHES times) and never starts more often
 *   than that; a run that never started may also end DEADLINE_EXCEEDED (it waited in the
 *   queue past its deadline while the pool's workers restarted).
 */
type Ending = 'succeed' | 'crash' | { readonly code: string }

interface Scenario {
  readonly id: string
  readonly fault: string
  readonly workflow: string
  /** Runs to submit. */
  runs(scale: Scale): number
  /** Spread the submissions over this long (clients keep coming during a process fault). */
  spreadMs(scale: Scale): number
  readonly input?: (i: number) => Record<string, unknown>
  /** Both kinds of client (with and without a key), in one table row each. */
  readonly bothKeys?: boolean
  /** Fire every submission at once. */
  readonly burst?: boolean
  /** How long a client keeps retrying. */
  readonly budgetMs?: number
  /** The process fault, started with the submissions. */
  act?(ctx: Context): Promise<void>
  /** A fault in a part every pool shares (Redis, the gateway): the neighbour waits it out too. */
  readonly shared?: boolean
  readonly ends: Ending
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Ms from `since` until a normal run of the faulty pool succeeds, or null within 90 s:
 * a caller whose run was lost with its worker (a 502 WORKER_LOST) asks again, with a new key.
 */
async function serves(rig: Rig, label: string, since: number): Promise<number | null> {
  const until = since + 90_000
  for (let i = 0; Date.now() < until; i++) {
    const key = `${label}-${i}`
    const probe = await submit(rig.url, 'chaos.work', { n: -1, ms: 10, key }, { key, async: false, budgetMs: until - Date.now() })
    if (probe.status === 200) return Date.now() - since
    await sleep(250)
  }
  return null
}

/**
 * Kill -9 a worker of pool `faulty` that is in the middle of a run (per the ledger), and
 * record it in `ctx.kills`. A worker running any run that an earlier kill of this scenario
 * already killed once is spared: a second kill of that run would dead-letter it
 * (WORKER_CRASHED after MAX_CRASHES), which is the poison-run rule, not this fault.
 */
async function killBusyWorker(ctx: Context, since: number): Promise<number | null> {
  const { rig, kills } = ctx
  for (let tries = 0; tries < 200; tries++) {
    const lines = rig.ledger().filter((l) => l.at >= since)
    const ended = new Set(lines.filter((l) => l.event === 'end').map((l) => `${l.runId}/${l.pid}`))
    const killedBefore = new Set(lines.filter((l) => l.event === 'start' && kills.some((k) => k.pid === l.pid)).map((l) => l.runId))
    const live = new Set(rig.workers('faulty'))
    const busy = lines.filter((l) => l.event === 'start' && !ended.has(`${l.runId}/${l.pid}`) && live.has(l.pid))
    const spared = new Set(busy.filter((l) => killedBefore.has(l.runId)).map((l) => l.pid))
    const pid = busy.filter((l) => !spared.has(l.pid)).at(-1)?.pid
    if (pid !== undefined) {
      process.kill(pid, 'SIGKILL')
      kills.push({ pid, at: Date.now() })
      return pid
    }
    await sleep(50)
  }
  return null
}

const SCENARIOS: Scenario[] = [
  {
    id: 'throw',
    fault: 'graph throws',
    workflow: 'chaos.throw',
    runs: (s) => s.poolRuns,
    spreadMs: () => 500,
    ends: { code: 'GRAPH_FAILED' },
  },
  {
    id: 'hang',
    fault: 'hangs past its deadline (ignores abort)',
    workflow: 'chaos.hang',
    runs: (s) => s.poolRuns,
    spreadMs: () => 500,
    ends: { code: 'DEADLINE_EXCEEDED' },
  },
  { id: 'spin', fault: 'busy-loops, ignoring abort', workflow: 'chaos.spin', runs: (s) => s.poolRuns, spreadMs: () => 500, ends: 'crash' },
  {
    id: 'heap',
    fault: 'allocates to its heap cap (96 MB)',
    workflow: 'chaos.heap',
    runs: (s) => s.poolRuns,
    spreadMs: () => 500,
    ends: 'crash',
  },
  { id: 'exit', fault: 'calls process.exit', workflow: 'chaos.exit', runs: (s) => s.poolRuns, spreadMs: () => 500, ends: 'crash' },
  {
    id: 'schema',
    fault: 'returns schema-breaking output',
    workflow: 'chaos.schema',
    runs: (s) => s.poolRuns,
    spreadMs: () => 500,
    ends: { code: 'OUTPUT_INVALID' },
  },
  {
    id: 'big',
    fault: 'returns 5 MB of output',
    workflow: 'chaos.big',
    runs: (s) => s.poolRuns,
    spreadMs: () => 2000,
    ends: { code: 'OUTPUT_TOO_LARGE' },
  },
  {
    id: 'flood',
    fault: 'flood far past maxQueued (40)',
    workflow: 'chaos.work',
    runs: (s) => s.flood,
    spreadMs: () => 0,
    burst: true,
    budgetMs: 5000,
    input: (i) => ({ n: i, ms: 100 }),
    bothKeys: true,
    ends: 'succeed',
  },
  {
    id: 'kill-worker',
    fault: 'kill -9 a worker mid-run (6 s timeout)',
    workflow: 'chaos.work',
    runs: (s) => s.processRuns,
    spreadMs: () => 2000,
    input: (i) => ({ n: i, ms: 500 }),
    bothKeys: true,
    ends: 'succeed',
    async act(ctx) {
      const since = Date.now()
      await sleep(600)
      await killBusyWorker(ctx, since)
    },
  },
  {
    id: 'kill-worker-long',
    fault: 'kill -9 two workers mid-run, 1.5 s apart, never the same run twice (30 s timeout)',
    workflow: 'chaos.work-long',
    runs: (s) => s.processRuns,
    spreadMs: () => 3000,
    input: (i) => ({ n: i, ms: 3000 }),
    bothKeys: true,
    ends: 'succeed',
    async act(ctx) {
      const since = Date.now()
      await sleep(1500)
      await killBusyWorker(ctx, since)
      await sleep(1500)
      await killBusyWorker(ctx, since)
    },
  },
  {
    id: 'kill-redis',
    fault: 'kill -9 Redis (AOF everysec), restart after the outage',
    workflow: 'chaos.work',
    runs: (s) => s.processRuns,
    spreadMs: (s) => s.redisOutageMs + 2000,
    input: (i) => ({ n: i, ms: 300 }),
    bothKeys: true,
    shared: true,
    budgetMs: 90_000,
    ends: 'succeed',
    async act({ rig, scale }) {
      await sleep(1000)
      await rig.killRedis()
      await sleep(scale.redisOutageMs)
      await rig.restartRedis()
    },
  },
  {
    id: 'kill-gateway',
    fault: 'kill -9 the gateway process with queued async runs (switchyard start restarts it)',
    workflow: 'chaos.work-long',
    runs: (s) => s.processRuns,
    spreadMs: () => 2500,
    input: (i) => ({ n: i, ms: 500 }),
    bothKeys: true,
    shared: true,
    budgetMs: 90_000,
    ends: 'succeed',
    async act({ rig }) {
      await sleep(800)
      await rig.killGateway()
      // The supervisor brings it back by itself, on the same port; nothing here restarts it.
      await rig.ready()
    },
  },
  {
    id: 'kill-start',
    fault: 'kill -9 switchyard start (supervisor; its gateway and workers go too) with queued async runs',
    workflow: 'chaos.work-long',
    runs: (s) => s.processRuns,
    spreadMs: (s) => s.gatewayOutageMs + 2000,
    input: (i) => ({ n: i, ms: 500 }),
    bothKeys: true,
    shared: true,
    budgetMs: 90_000,
    ends: 'succeed',
    async act({ rig, scale }) {
      await sleep(800)
      await rig.killStart()
      await sleep(scale.gatewayOutageMs)
      await rig.restartStart()
    },
  },
]

/** Every scenario, in the order the suite runs them. */
export const SCENARIO_IDS: readonly string[] = SCENARIOS.map((s) => s.id)

export interface Latency {
  readonly p50: number
  readonly p99: number
  readonly n: number
  readonly failures: number
  /** What the first failed requests got, for a failed test's message. */
  readonly failed: readonly string[]
}

export interface Row {
  readonly scenario: string
  readonly fault: string
  /** 'key', 'no key', or 'key' for pool faults (every client sends one). */
  readonly keyed: boolean
  readonly submitted: number
  readonly accepted: number
  readonly succeeded: number
  readonly failed: Readonly<Record<string, number>>
  readonly lost: number
  readonly executedTwice: number
  /** Submissions the client gave up on without an accepted run (refused, or unknown after a dropped connection). */
  readonly notAccepted: number
  readonly baseline: Latency
  readonly withFault: Latency
  /** The gateway's process and Redis, in % of one core, before the fault and during it (null: not measured, or restarted). */
  readonly cpu: { readonly baseline: Shares; readonly withFault: Shares }
  /** Each window's meter whole: CPU, run-queue waits, the machine's load. */
  readonly meter: { readonly baseline: WindowMeter; readonly withFault: WindowMeter }
  /** How long after the fault's last run ended a new run of the faulty pool succeeded (ms), or null. */
  readonly recoveredMs: number | null
  readonly shared: boolean
  /** Per accepted run: how it ended and what the ledger saw of it (`npm run chaos -- --why`). */
  readonly runs: readonly RunStory[]
  /** Per run a `kill -9` of its worker interrupted: ms from the kill until its graph started again (null: never). */
  readonly killedRunsRestartedMs: readonly (number | null)[]
}

export interface RunStory {
  readonly runId: string
  readonly status: string
  readonly code: string | null
  readonly message: string | null
  /** The graph's starts, oldest first: attempt and worker pid (from the ledger). */
  readonly starts: readonly { readonly attempt: number; readonly pid: number; readonly at: number }[]
}

function latency(result: TrafficResult): Latency {
  return {
    p50: percentile(result.latencies, 50),
    p99: percentile(result.latencies, 99),
    n: result.latencies.length,
    failures: result.failures,
    failed: result.failed ?? [],
  }
}

/** Run one scenario on a live rig; one row per kind of client. */
async function runScenario(rig: Rig, scale: Scale, scenario: Scenario, log: (line: string) => void): Promise<Row[]> {
  const tag = `${scenario.id}-${Date.now().toString(36)}`
  const traffic = () => neighbourTraffic(rig.url, scale.neighbourEveryMs)

  const callers = await openCallers()
  try {
    return await measureScenario(rig, scale, scenario, log, tag, traffic, callers)
  } finally {
    callers.close()
  }
}

async function measureScenario(
  rig: Rig,
  scale: Scale,
  scenario: Scenario,
  log: (line: string) => void,
  tag: string,
  traffic: () => Promise<{ stop(): Promise<TrafficResult> }>,
  callers: Callers,
): Promise<Row[]> {
  const quiet = await traffic()
  const quietCpu = await cpuMeter(rig)
  await sleep(scale.baselineMs)
  const baselineCpu = await quietCpu()
  const baseline = latency(await quiet.stop())

  const during = await traffic()
  const duringCpu = await cpuMeter(rig)
  const startedAt = Date.now()
  const total = scenario.runs(scale)
  const keyedAt = (j: number) => (scenario.bothKeys ? j % 2 === 0 : true)
  const answers: Submission[] = []
  const views = new Map<string, RunView | null>()
  const kills: Context['kills'] = []
  // A pool fault repeats its batch (each once the last one's runs have ended) until the
  // window has lasted scale.faultMinMs; a process fault happens once.
  const repeats = scenario.act === undefined && !scenario.shared
  for (let batch = 0; ; batch++) {
    const calls = Array.from({ length: total }, (_, i) => {
      const j = batch * total + i
      const label = `${tag}-${j}`
      return {
        input: { ...(scenario.input?.(j) ?? { n: j }), key: label },
        options: { key: keyedAt(j) ? label : null, async: true, budgetMs: scenario.budgetMs ?? 30_000 },
      }
    })
    const batchSent = callers.send({
      url: rig.url,
      workflow: scenario.workflow,
      calls,
      spreadMs: scenario.burst ? 0 : scenario.spreadMs(scale),
    })
    await batchSent.sending
    await (scenario.act?.({ rig, scale, kills }) ?? Promise.resolve())
    const got = await batchSent.answers
    answers.push(...got)
    const settled = await settle(
      rig.url,
      got.flatMap((a) => (a.runId === null ? [] : [a.runId])),
      Date.now() + 90_000,
    )
    for (const [runId, view] of settled) views.set(runId, view)
    if (!repeats || Date.now() - startedAt >= scale.faultMinMs) break
  }

  // Once every run of the fault has ended: how long until the faulty pool serves a new run.
  // (A probe sent with the fault's own runs was served before a poison run took its
  // worker down, and one sent during a process fault queued behind the fault's runs.)
  const recoveredMs = await serves(rig, `${tag}-probe`, Date.now())
  // The fault lasts until its runs have ended (a busy loop burns its core until the watchdog ends it).
  const faultCpu = await duringCpu()
  const withFault = latency(await during.stop())

  const ledger = rig.ledger().filter((line) => line.key?.startsWith(`${tag}-`) && !line.key.startsWith(`${tag}-probe`))
  // Each run a kill interrupted (started on that pid, not ended before): ms until it started again, or null.
  const restarts = kills.flatMap((kill) => {
    const ended = new Set(ledger.filter((l) => l.event === 'end' && l.pid === kill.pid).map((l) => l.runId))
    const hit = ledger.filter((l) => l.event === 'start' && l.pid === kill.pid && l.at <= kill.at && !ended.has(l.runId))
    return hit.map((l) => {
      const again = ledger.find((next) => next.event === 'start' && next.runId === l.runId && next.at > kill.at)
      return { runId: l.runId, ms: again ? again.at - kill.at : null }
    })
  })
  const rows: Row[] = []
  for (const keyed of scenario.bothKeys ? [true, false] : [true]) {
    const picked = answers.map((a, j) => ({ a, label: `${tag}-${j}`, keyed: keyedAt(j) })).filter((x) => x.keyed === keyed)
    const mine = picked.map((x) => x.a)
    const labels = picked.map((x) => x.label)
    const runIds = mine.flatMap((a) => (a.runId ? [a.runId] : []))
    const failed: Record<string, number> = {}
    let succeeded = 0
    let lost = 0
    const stories: RunStory[] = []
    for (const runId of runIds) {
      const view = views.get(runId)
      stories.push({
        runId,
        status: view?.status ?? 'unknown',
        code: view?.error?.code ?? null,
        message: view?.error?.message ?? null,
        starts: ledger
          .filter((l) => l.runId === runId && l.event === 'start')
          .map((l) => ({ attempt: l.attempt, pid: l.pid, at: l.at - startedAt })),
      })
      if (!view || !['succeeded', 'failed', 'cancelled'].includes(view.status)) lost += 1
      else if (view.status === 'succeeded') succeeded += 1
      else {
        const code = view.error?.code ?? view.status
        failed[code] = (failed[code] ?? 0) + 1
      }
    }
    // Executed twice: a submission whose graph ran under two run ids, or a run that finished its work twice.
    let twice = 0
    for (const label of labels) {
      const lines = ledger.filter((l) => l.key === label)
      const runs = new Set(lines.filter((l) => l.event === 'start').map((l) => l.runId))
      const ends = new Map<string, number>()
      for (const l of lines) if (l.event === 'end') ends.set(l.runId, (ends.get(l.runId) ?? 0) + 1)
      if (runs.size > 1 || [...ends.values()].some((n) => n > 1)) twice += 1
    }
    twice += mine.filter((a) => a.conflictingRunIds.length > 0).length
    rows.push({
      scenario: scenario.id,
      fault: scenario.fault,
      keyed,
      submitted: mine.length,
      accepted: runIds.length,
      succeeded,
      failed,
      lost,
      executedTwice: twice,
      notAccepted: mine.length - runIds.length,
      baseline,
      withFault,
      recoveredMs,
      cpu: { baseline: baselineCpu.cpu, withFault: faultCpu.cpu },
      meter: { baseline: baselineCpu, withFault: faultCpu },
      shared: scenario.shared === true,
      runs: stories,
      killedRunsRestartedMs: restarts.filter((r) => runIds.includes(r.runId)).map((r) => r.ms),
    })
  }
  for (const row of rows) log(formatRowLine(row))
  return rows
}

const pct = (value: number | null) => (value === null ? '–' : String(value))

export function formatRowLine(row: Row): string {
  const failed = Object.entries(row.failed)
    .map(([code, n]) => `${code} ${n}`)
    .join(', ')
  return (
    `${row.scenario}${row.keyed ? '' : ' (no key)'}: accepted ${row.accepted}/${row.submitted}, succeeded ${row.succeeded}, ` +
    `failed ${failed || '0'}, lost ${row.lost}, executed twice ${row.executedTwice}; neighbour p50/p99 ` +
    `${row.baseline.p50.toFixed(0)}/${row.baseline.p99.toFixed(0)} → ${row.withFault.p50.toFixed(0)}/${row.withFault.p99.toFixed(0)} ms ` +
    `(of ${row.baseline.n}/${row.withFault.n} requests), ` +
    `${row.withFault.failures} failures; gateway/Redis CPU ${pct(row.cpu.baseline.gateway)}/${pct(row.cpu.baseline.redis)} → ` +
    `${pct(row.cpu.withFault.gateway)}/${pct(row.cpu.withFault.redis)} % of a core, ` +
    `its longest loop stall ${pct(row.meter.baseline.loopMaxMs)} → ${pct(row.meter.withFault.loopMaxMs)} ms; recovered ${row.recoveredMs === null ? 'NO' : `${(row.recoveredMs / 1000).toFixed(1)} s`}` +
    (row.killedRunsRestartedMs.length > 0 ? `; killed runs started again after ${restartedText(row)}` : '') +
    [...row.baseline.failed, ...row.withFault.failed].map((text) => `\n  a neighbour request failed: ${text}`).join('')
  )
}

/** `n runs, max x.x s` for the runs a kill interrupted (`never` if one did not start again). */
export function restartedText(row: Row): string {
  const times = row.killedRunsRestartedMs
  if (times.length === 0) return '–'
  if (times.some((ms) => ms === null)) return `never (${times.filter((ms) => ms === null).length} of ${times.length})`
  return `max ${(Math.max(...(times as number[])) / 1000).toFixed(1)} s (${times.length} runs)`
}

/**
 * What in a row breaks how its scenario's runs must end (Ending): one line per broken rule,
 * none when it held. The chaos test asserts none; `npm run chaos` prints them and fails.
 */
export function endingProblems(row: Row): string[] {
  const scenario = SCENARIOS.find((s) => s.id === row.scenario)
  if (!scenario) return [`unknown scenario ${row.scenario}`]
  const label = `${row.scenario}${row.keyed ? '' : ' (no key)'}`
  const problems: string[] = []
  const ends = scenario.ends
  for (const run of row.runs) {
    const ended = run.code ?? run.status
    const starts = run.starts.length
    const said = `${label}: run ${run.runId} ended ${ended} after ${starts} start(s) of its graph`
    if (ends === 'succeed') {
      if (run.status !== 'succeeded') problems.push(`${said}; every run must succeed: ${run.message ?? ''}`)
    } else if (ends === 'crash') {
      if (!['WORKER_CRASHED', 'WORKER_LOST', 'DEADLINE_EXCEEDED'].includes(ended))
        problems.push(`${said}; a crash ends WORKER_CRASHED, WORKER_LOST or (never started) DEADLINE_EXCEEDED`)
      else if (ended === 'DEADLINE_EXCEEDED' && starts > 0)
        problems.push(
          `${said}; its worker died under it, so DEADLINE_EXCEEDED misleads (WORKER_LOST or WORKER_CRASHED): ${run.message ?? ''}`,
        )
      if (starts > MAX_CRASHES) problems.push(`${said}; a run is dead-lettered after ${MAX_CRASHES} crashes, never started again`)
      else if (starts === MAX_CRASHES && ended !== 'WORKER_CRASHED')
        problems.push(`${said}; it took its worker down ${MAX_CRASHES} times, so it is dead-lettered WORKER_CRASHED`)
    } else if (ended !== ends.code) {
      problems.push(`${said}; every run must end ${ends.code}: ${run.message ?? ''}`)
    }
  }
  if (ends === 'succeed' && row.killedRunsRestartedMs.some((ms) => ms === null))
    problems.push(`${label}: a run a kill -9 interrupted never started again`)
  return problems
}

/** Run the suite's scenarios (all, or `scale.only`) on one rig, in order. */
export async function runSuite(rig: Rig, scale: Scale, log: (line: string) => void = () => undefined): Promise<Row[]> {
  const rows: Row[] = []
  for (const scenario of SCENARIOS) {
    if (scale.only && !scale.only.includes(scenario.id)) continue
    rows.push(...(await runScenario(rig, scale, scenario, log)))
  }
  return rows
}
