// Throughput of the python worker beside the node worker, measured side by side in one
// run on one private Redis: N trivial runs (echo) submitted at once through the real
// RedisBroker, signed, each pool at concurrency 8, three rounds after a warm-up.
// Usage: node --import tsx python/bench/throughput.mts [N=1000]
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { randomUUID } from 'node:crypto'
import { loadRegistry, route } from '../../src/control/index.js'
import { createEnvelope } from '../../src/data/envelope.js'
import { RedisBroker } from '../../src/data/broker/redis/redis-broker.js'
import { startRedis } from '../../test/helpers/redis.js'

const KEY = 'bench'
const here = (path: string) => fileURLToPath(new URL(path, import.meta.url))
const CONFIG = here('fixture/switchyard.yaml')
const N = Number(process.argv[2] ?? 400)
const redis = await startRedis()
const registry = loadRegistry(CONFIG)
const broker = await RedisBroker.connect({ registry, url: redis.url, pollMs: 500 })
const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', SWITCHYARD_SIGNING_KEY: KEY, PYTHONPATH: here('..') }
const ready = (child: ReturnType<typeof spawn>, marker: string) => new Promise<void>((resolve) => { let log = ''; child.stdout?.on('data', (c: Buffer) => { log += c; if (log.includes(marker)) resolve() }) })
const node = spawn(process.execPath, ['--import', 'tsx', here('../../src/cli/worker.ts'), '--config', CONFIG, '--pool', 'nodep', '--redis', redis.url], { env, stdio: ['ignore', 'pipe', 'inherit'] })
const py = spawn('python3', ['-m', 'switchyard_worker', '--config', CONFIG, '--pool', 'py', '--redis', redis.url], { env, stdio: ['ignore', 'pipe', 'pipe'] })
try {
  await Promise.all([ready(node, 'switchyard worker: pool'), ready(py, 'switchyard python worker:')])
  const trace = { traceparent: '', tracestate: '', baggage: '' }
  const batch = async (workflow: string): Promise<number> => {
    const t0 = performance.now()
    const ids = await Promise.all(Array.from({ length: N }, async (_, i) => {
      const e = createEnvelope(route(registry, { workflow, input: { i } }), { runId: `b-${randomUUID()}`, trace, idempotencyKey: null }, KEY)
      await broker.submit(e)
      return e.runId
    }))
    const records = await Promise.all(ids.map((id) => broker.wait(id, { until: Date.now() + 120_000 })))
    const bad = records.find((r) => r.status !== 'succeeded')
    if (bad) throw new Error(`a run failed: ${JSON.stringify(bad)}`)
    return N / ((performance.now() - t0) / 1000)
  }
  await batch('bench.node'); await batch('bench.py')
  for (let round = 0; round < 3; round++) {
    const n = await batch('bench.node')
    const p = await batch('bench.py')
    console.log(`round ${round + 1}: node ${n.toFixed(0)} runs/s · python ${p.toFixed(0)} runs/s · python/node ${(p / n).toFixed(2)}`)
  }
} finally {
  node.kill('SIGTERM'); py.kill('SIGTERM')
  await broker.close(); await redis.stop()
}
