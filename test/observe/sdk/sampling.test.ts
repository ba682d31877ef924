// Sampling (DESIGN §3), through the real gateway, the MemoryBroker and a worker in
// this process: the pool's sampleRate keeps a binomial share of runs, decided once
// from the trace id; every kept run is whole; a dropped run leaves no spans.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, test } from 'node:test'
import { createWorker, type PoolWorker } from '../../../src/data/worker/index.js'
import { FileTraceStore, sampledAt } from '../../../src/observe/index.js'
import { E2E_VERIFY, eventually, startRig, type TracingRig } from '../e2e-fixture.js'

const RUNS = 1000
const RATE = 0.1
const WHOLE = ['route lead.classify', 'enqueue classify', 'run lead.classify', 'node research', 'node draft', 'chat offline']

let rig: TracingRig
let worker: PoolWorker

before(async () => {
  rig = await startRig(`version: 1
pools:
  classify:
    concurrency: 32
    timeout: 30s
    retries: 0
    maxQueued: 10000
    tracing: { project: sales-classify, sampleRate: ${RATE}, capture: full }
workflows:
  lead.classify:
    pool: classify
    graph: "{graph}#graph"
    input: { type: object, required: [lead] }
    description: The two-node fixture graph.
`)
  const quiet = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet }
  worker = createWorker({
    pool: 'classify',
    registry: rig.registry,
    source: rig.broker.source('classify'),
    verifyKeys: E2E_VERIFY,
    watchdogGraceMs: null,
    log: quiet,
  })
  await worker.start()
})

after(async () => {
  await worker?.close()
  await rig?.close()
})

/** The central 99.9% interval of Binomial(n, p): [lo, hi] with P(X < lo) ≤ 0.0005 and P(X > hi) ≤ 0.0005. */
function binomialInterval(n: number, p: number): [number, number] {
  const pmf: number[] = [Math.pow(1 - p, n)]
  for (let k = 1; k <= n; k++) pmf.push(((pmf[k - 1] ?? 0) * (n - k + 1) * p) / (k * (1 - p)))
  let lo = 0
  for (let below = 0; below + (pmf[lo] ?? 0) <= 0.0005; lo++) below += pmf[lo] ?? 0
  let hi = n
  for (let above = 0; above + (pmf[hi] ?? 0) <= 0.0005; hi--) above += pmf[hi] ?? 0
  return [lo, hi]
}

/** POST every request, `parallel` at a time; the trace id each run reported. */
async function runAll(headers: readonly Record<string, string>[], parallel = 16): Promise<string[]> {
  const traceIds: string[] = new Array<string>(headers.length)
  let next = 0
  const lane = async () => {
    for (let i = next++; i < headers.length; i = next++) {
      const response = await fetch(`${rig.gateway.url}/v1/workflows/lead.classify/run`, {
        method: 'POST',
        body: JSON.stringify({ lead: { name: `Lead ${i}`, email: `lead${i}@example.org` } }),
        headers: { 'content-type': 'application/json', ...headers[i] },
      })
      assert.equal(response.status, 200, await response.text())
      await response.arrayBuffer().catch(() => undefined)
      traceIds[i] = response.headers.get('x-switchyard-trace-id') ?? ''
    }
  }
  await Promise.all(Array.from({ length: parallel }, lane))
  return traceIds
}

const traceparent = (sampled: boolean) => `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-${sampled ? '01' : '00'}`

void test(`${RUNS} runs at sampleRate ${RATE}: a binomial share is kept, every kept run whole, every dropped run absent`, async () => {
  // Half the callers send a sampled traceparent of their own, half send none (the gateway roots the trace).
  const eligible = await runAll(
    Array.from({ length: RUNS }, (_, i): Record<string, string> => (i % 2 === 0 ? { traceparent: traceparent(true) } : {})),
  )
  // Callers that marked their trace unsampled are never kept, whatever the rate says.
  const unsampled = await runAll(Array.from({ length: 100 }, () => ({ traceparent: traceparent(false) })))

  const expected = new Set(eligible.filter((id) => sampledAt(id, RATE)))
  const [lo, hi] = binomialInterval(RUNS, RATE)
  assert.ok(expected.size >= lo && expected.size <= hi, `kept ${expected.size} of ${RUNS}, outside the 99.9% interval [${lo}, ${hi}]`)

  const store = await eventually(`the ${expected.size} kept runs, whole, in the store`, async () => {
    await rig.tracing.forceFlush()
    const opened = await FileTraceStore.open(rig.traceDir)
    const runs = await opened.listRuns({ limit: 1000 })
    return runs.length >= expected.size ? opened : undefined
  })
  const runs = await store.listRuns({ limit: 1000 })
  assert.deepEqual(new Set(runs.map((r) => r.traceId)), expected, 'exactly the runs the rate keeps are stored')
  assert.ok(runs.length >= lo && runs.length <= hi, `stored ${runs.length}, interval [${lo}, ${hi}]`)
  for (const run of runs) {
    const spans = await store.getTrace(run.traceId)
    const names = spans.map((s) => s.name)
    for (const name of WHOLE) assert.ok(names.includes(name), `kept run ${run.traceId} lacks '${name}' (has ${names.join(', ')})`)
    assert.ok(
      spans.some((s) => s.kind === 'server'),
      `kept run ${run.traceId} lacks the gateway span`,
    )
    const ids = new Set(spans.map((s) => s.spanId))
    const inside = spans.filter((s) => s.parentSpanId === null || !ids.has(s.parentSpanId))
    assert.equal(inside.length, 1, `kept run ${run.traceId} is one connected tree`)
  }
  for (const id of [...eligible.filter((i) => !expected.has(i)), ...unsampled]) {
    assert.deepEqual(await store.getTrace(id), [], `dropped run ${id} left spans`)
  }
})
