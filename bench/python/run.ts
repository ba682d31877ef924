// The Python pool worker next to the node worker, side by side in one run, on the same
// no-op graph, each pool one process at concurrency 8, as `switchyard dev` and
// `switchyard start` run them (the supervisor; the node worker under tsx, as dev runs it):
//   - idle RSS of each worker process once serving, and again after its runs
//   - runs/s, closed loop (64 runs in flight), on the embedded broker (IPC) and on Redis
//     (BullMQ), rounds interleaved so machine noise hits both alike; median of the rounds.
// With --before DIR (another checkout: its python/ package), that build's Python worker runs
// beside this one's, each on its own broker (and its own redis-server), rounds interleaved
// with this build's: python runs/s of both and their ratio, per broker.
// Usage: node --import tsx bench/python/run.ts [--runs 2000] [--rounds 5] [--before DIR]
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

import { loadRegistry, route, type Registry } from '../../src/control/index.js'
import { createEnvelope, generateSigningKey, verifyKeysFor } from '../../src/data/index.js'
import type { Broker } from '../../src/data/broker/index.js'
import { MemoryBroker } from '../../src/data/broker/memory/index.js'
import { RedisBroker } from '../../src/data/broker/redis/index.js'
import { pythonProgram, startSupervisor, type Supervisor } from '../../src/data/supervisor/index.js'
import { startRedis } from '../../test/helpers/redis.js'

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '2000' }, rounds: { type: 'string', default: '5' }, before: { type: 'string' } },
})
const RUNS = Number(values.runs)
const ROUNDS = Number(values.rounds)
const IN_FLIGHT = 64
const KEY = generateSigningKey()
const CONFIG = fileURLToPath(new URL('fixture/switchyard.yaml', import.meta.url))
const WORKER = fileURLToPath(new URL('../../src/cli/worker.ts', import.meta.url))
const registry = loadRegistry(CONFIG)
const trace = { traceparent: '', tracestate: '', baggage: '' }

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) / 1024
}

async function until(what: string, check: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const end = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** The Python worker of this checkout, or of --before DIR's. */
const program = (dir?: string) => (dir ? { ...pythonProgram(), path: join(resolve(dir), 'python') } : pythonProgram())

function supervise(broker: SupervisedBroker, sharedRedis: string | null = null, before?: string): Supervisor {
  return startSupervisor({
    registry,
    broker,
    worker: { module: WORKER, execArgv: ['--import', import.meta.resolve('tsx')], args: (pool) => ['--pool', pool.name, ...(broker.kind === 'memory' ? ['--ipc'] : [])] },
    python: program(before),
    verifyKeys: verifyKeysFor(KEY),
    // The workers' Redis (SWITCHYARD_REDIS_URL is not passed on from extraEnv: a pool's own env file names its own).
    sharedRedis,
    // Workers' lines only with BENCH_VERBOSE=1 (a worker that cannot start says why there).
    output: (pool, pid, line) => {
      if (process.env.BENCH_VERBOSE) console.error(`[${pool} ${pid}] ${line}`)
    },
  })
}
type SupervisedBroker = Parameters<typeof startSupervisor>[0]['broker']

/** Closed loop: IN_FLIGHT runs at a time until RUNS finished; runs/s. */
async function throughput(broker: Broker, workflow: string, reg: Registry): Promise<number> {
  let started = 0
  const t0 = performance.now()
  const lane = async () => {
    while (started < RUNS) {
      started += 1
      const envelope = createEnvelope(route(reg, { workflow, input: { i: started } }), { runId: `b-${randomUUID()}`, trace, idempotencyKey: null }, KEY)
      await broker.submit(envelope)
      const record = await broker.wait(envelope.runId, { until: Date.now() + 60_000 })
      if (record.status !== 'succeeded') throw new Error(`${workflow}: ${JSON.stringify(record.error)}`)
    }
  }
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane))
  return RUNS / ((performance.now() - t0) / 1000)
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN

/** A broker whose python pool --before DIR's worker serves (its node pool too, unmeasured). */
interface Before {
  readonly broker: Broker
  readonly supervisor: Supervisor
  readonly rates: number[]
}

async function measure(label: string, broker: Broker, supervisor: Supervisor, before?: Before): Promise<Record<string, number>> {
  await until(`${label}: both pools ready`, () => broker.ready())
  if (before) await until(`${label} (before): both pools ready`, () => before.broker.ready())
  await new Promise((resolve) => setTimeout(resolve, 2000)) // settle: idle, graphs not loaded yet
  const [nodePid] = supervisor.pids('nodep')
  const [pyPid] = supervisor.pids('py')
  const idle = { node: rssMb(nodePid!), python: rssMb(pyPid!) }
  // Warm-up: each graph loaded, code paths hot.
  await throughput(broker, 'bench.node', registry)
  await throughput(broker, 'bench.py', registry)
  if (before) await throughput(before.broker, 'bench.py', registry)
  const rates: { node: number[]; python: number[] } = { node: [], python: [] }
  for (let round = 0; round < ROUNDS; round++) {
    rates.node.push(await throughput(broker, 'bench.node', registry))
    // This build and the one before, alternately: the same machine noise for both.
    if (before && round % 2 === 0) before.rates.push(await throughput(before.broker, 'bench.py', registry))
    rates.python.push(await throughput(broker, 'bench.py', registry))
    if (before && round % 2 === 1) before.rates.push(await throughput(before.broker, 'bench.py', registry))
  }
  const after = { node: rssMb(nodePid!), python: rssMb(pyPid!) }
  return {
    idleNode: idle.node,
    idlePython: idle.python,
    afterNode: after.node,
    afterPython: after.python,
    rateNode: median(rates.node),
    ratePython: median(rates.python),
    ...(before ? { ratePythonBefore: median(before.rates) } : {}),
  }
}

const results: Record<string, Record<string, number>> = {}
{
  const memory = () => new MemoryBroker({ pools: [...registry.pools.values()].map((pool) => ({ ...pool, served: true })) })
  const broker = memory()
  const supervisor = supervise({ kind: 'memory', broker })
  const beforeBroker = values.before ? memory() : null
  const before = beforeBroker ? { broker: beforeBroker, supervisor: supervise({ kind: 'memory', broker: beforeBroker }, null, values.before), rates: [] } : undefined
  try {
    results['embedded broker (IPC)'] = await measure('memory', broker, supervisor, before)
  } finally {
    await supervisor.stop()
    await broker.close()
    await before?.supervisor.stop()
    await before?.broker.close()
  }
}
{
  const redis = await startRedis()
  const broker = await RedisBroker.connect({ registry, url: redis.url })
  const supervisor = supervise({ kind: 'redis', broker }, redis.url)
  const beforeRedis = values.before ? await startRedis() : null
  const beforeBroker = beforeRedis ? await RedisBroker.connect({ registry, url: beforeRedis.url }) : null
  const before =
    beforeRedis && beforeBroker
      ? { broker: beforeBroker, supervisor: supervise({ kind: 'redis', broker: beforeBroker }, beforeRedis.url, values.before), rates: [] }
      : undefined
  try {
    results['Redis (BullMQ)'] = await measure('redis', broker, supervisor, before)
  } finally {
    await supervisor.stop()
    await broker.close()
    await redis.stop()
    await before?.supervisor.stop()
    await beforeBroker?.close()
    await beforeRedis?.stop()
  }
}

console.log(`python worker vs node worker · no-op graph · concurrency 8 · ${IN_FLIGHT} in flight · ${RUNS} runs × ${ROUNDS} rounds (median)\n`)
console.log('broker                  idle RSS node / python     RSS after runs node / python   runs/s node / python   python/node')
for (const [name, r] of Object.entries(results)) {
  const mb = (x: number | undefined) => `${(x ?? NaN).toFixed(0)} MB`
  console.log(
    `${name.padEnd(22)}  ${mb(r.idleNode).padStart(7)} / ${mb(r.idlePython).padEnd(14)}  ${mb(r.afterNode).padStart(7)} / ${mb(r.afterPython).padEnd(18)}  ${(r.rateNode ?? 0).toFixed(0).padStart(6)} / ${(r.ratePython ?? 0).toFixed(0).padEnd(11)}  ${((r.ratePython ?? 0) / (r.rateNode ?? 1)).toFixed(2)}`,
  )
}
if (values.before) {
  console.log(`\npython worker, this build vs --before ${values.before} (rounds interleaved, median runs/s)`)
  console.log('broker                  before / this build   this/before')
  for (const [name, r] of Object.entries(results)) {
    console.log(
      `${name.padEnd(22)}  ${(r.ratePythonBefore ?? 0).toFixed(0).padStart(6)} / ${(r.ratePython ?? 0).toFixed(0).padEnd(12)}  ${((r.ratePython ?? 0) / (r.ratePythonBefore ?? 1)).toFixed(2)}`,
    )
  }
}
