// What the gateway's HTTP layer costs per run: the same no-op workflow on the same
// MemoryBroker and in-process worker, sent three ways, in alternating rounds, side by side:
//   direct   route() + createEnvelope + broker.submit + broker.wait (no HTTP)
//   http     POST /v1/workflows/{name}/run with fetch (keep-alive), auth on
//   client   createClient().run() (the typed client: span + headers + retries)
// Usage: node --import tsx bench/gateway/overhead.ts [runs per round = 1000] [concurrency = 16]
import { randomUUID } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createClient } from '../../src/client/index.js'
import { loadRegistry, route } from '../../src/control/index.js'
import { createEnvelope, generateSigningKey, verifyKeysFor } from '../../src/data/index.js'
import { MemoryBroker } from '../../src/data/broker/memory/index.js'
import { createWorker } from '../../src/data/worker/index.js'
import { startGateway } from '../../src/gateway/index.js'

const RUNS = Number(process.argv[2] ?? 1000)
const CONCURRENCY = Number(process.argv[3] ?? 16)
const ROUNDS = 3
const KEY = generateSigningKey()
const TOKEN = 'bench-token'

const dir = mkdtempSync(join(tmpdir(), 'switchyard-bench-gateway-'))
mkdirSync(join(dir, 'graphs'))
writeFileSync(join(dir, 'graphs', 'noop.mjs'), 'export function graph() { return (input) => ({ ok: true, n: input.n }) }\n')
writeFileSync(
  join(dir, 'switchyard.yaml'),
  `version: 1
pools:
  bench: { concurrency: 64, timeout: 30s, retries: 0, tracing: { project: bench, sampleRate: 1.0, capture: full } }
workflows:
  bench.noop:
    pool: bench
    graph: graphs/noop.mjs#graph
    description: A no-op run.
    input: { type: object, properties: { n: { type: integer } } }
`,
)
const registry = loadRegistry(join(dir, 'switchyard.yaml'))
const broker = new MemoryBroker({ pools: registry.pools.values() })
const silent = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent }
const worker = createWorker({
  pool: 'bench',
  registry,
  source: broker.source('bench'),
  verifyKeys: verifyKeysFor(KEY),
  watchdogGraceMs: null,
  log: silent,
})
await worker.start()
const gateway = await startGateway({ registry, broker, port: 0, tokens: [TOKEN], signingKey: KEY, log: silent })
const client = createClient({ url: gateway.url, token: TOKEN })

const modes: Record<string, (n: number) => Promise<void>> = {
  async direct(n) {
    const plan = route(registry, { workflow: 'bench.noop', input: { n } })
    const envelope = createEnvelope(
      plan,
      { runId: randomUUID(), trace: { traceparent: '', tracestate: '', baggage: '' }, idempotencyKey: null },
      KEY,
    )
    const { runId } = await broker.submit(envelope)
    const record = await broker.wait(runId, { until: Date.parse(plan.deadline) })
    if (record.status !== 'succeeded') throw new Error(`direct run ${record.status}`)
  },
  async http(n) {
    const res = await fetch(`${gateway.url}/v1/workflows/bench.noop/run`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ n }),
    })
    if (res.status !== 200) throw new Error(`http run ${res.status}: ${await res.text()}`)
    await res.json()
  },
  async client(n) {
    await client.run('bench.noop', { n })
  },
}

async function round(run: (n: number) => Promise<void>): Promise<{ perSecond: number; p50: number; p99: number }> {
  const latencies: number[] = []
  let next = 0
  const started = performance.now()
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < RUNS) {
        const n = next++
        const t = performance.now()
        await run(n)
        latencies.push(performance.now() - t)
      }
    }),
  )
  const seconds = (performance.now() - started) / 1000
  latencies.sort((a, b) => a - b)
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0
  return { perSecond: RUNS / seconds, p50: at(0.5), p99: at(0.99) }
}

try {
  for (const run of Object.values(modes)) await round(run) // warm-up: JIT, connections, validators
  const results: Record<string, Array<{ perSecond: number; p50: number; p99: number }>> = { direct: [], http: [], client: [] }
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, run] of Object.entries(modes)) results[name]?.push(await round(run))
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0
  const summary = Object.fromEntries(
    Object.entries(results).map(([name, list]) => [
      name,
      { perSecond: median(list.map((x) => x.perSecond)), p50: median(list.map((x) => x.p50)), p99: median(list.map((x) => x.p99)) },
    ]),
  )
  const base = summary.direct?.perSecond ?? 1
  console.log(`gateway overhead: ${RUNS} runs × ${ROUNDS} rounds per mode, concurrency ${CONCURRENCY}, medians (tracing off)`)
  for (const [name, s] of Object.entries(summary)) {
    console.log(
      `  ${name.padEnd(7)} ${s.perSecond.toFixed(0).padStart(6)} runs/s   p50 ${s.p50.toFixed(2)} ms   p99 ${s.p99.toFixed(2)} ms   ${(s.perSecond / base).toFixed(2)}× direct`,
    )
  }
} finally {
  await gateway.close()
  await worker.close()
  await broker.close()
  rmSync(dir, { recursive: true, force: true })
}
