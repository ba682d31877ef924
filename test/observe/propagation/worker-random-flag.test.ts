// A node pool worker continues the caller's trace with its random flag: what the graph
// sends on (propagation.inject from inside a run, as an HTTP call of its own would)
// keeps the bit the caller set, and keeps it unset when the caller did not set it.
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base'
import { loadRegistry, parseTraceparent, route } from '../../../src/control/index.js'
import { createEnvelope } from '../../../src/data/index.js'
import { MemoryBroker } from '../../../src/data/broker/memory/index.js'
import { createWorker, type PoolWorker } from '../../../src/data/worker/index.js'
import { silentLogger } from '../../../src/graph/index.js'
import { initTracing, type Tracing } from '../../../src/observe/index.js'

const REPO = join(import.meta.dirname, '../../..')
let dir: string
let tracing: Tracing
let broker: MemoryBroker
let worker: PoolWorker
let registry: ReturnType<typeof loadRegistry>

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'switchyard-random-flag-'))
  mkdirSync(join(dir, 'node_modules'))
  symlinkSync(join(REPO, 'node_modules', '@opentelemetry'), join(dir, 'node_modules', '@opentelemetry'))
  writeFileSync(
    join(dir, 'switchyard.yaml'),
    `version: 1
pools:
  p: { tracing: { project: p, sampleRate: 1, capture: full } }
workflows:
  w.send:
    pool: p
    graph: graph.mjs#graph
    description: Returns the trace headers it would send on.
    input: { type: object }
`,
  )
  writeFileSync(
    join(dir, 'graph.mjs'),
    `export async function graph() {
  const { context, propagation } = await import('@opentelemetry/api')
  return () => { const headers = {}; propagation.inject(context.active(), headers); return headers }
}
`,
  )
  registry = loadRegistry(join(dir, 'switchyard.yaml'))
  tracing = initTracing({ service: 'switchyard-pool-p', pool: 'p', env: {}, exporter: new InMemorySpanExporter() })
  broker = new MemoryBroker({ pools: registry.pools.values() })
  const log = { ...silentLogger, child: () => silentLogger }
  worker = createWorker({ pool: 'p', registry, source: broker.source('p'), verifyKeys: null, watchdogGraceMs: null, log })
  await worker.start()
})
after(async () => {
  await worker.close()
  await broker.close()
  await tracing.shutdown()
  rmSync(dir, { recursive: true, force: true })
})

async function sentOn(traceparent: string) {
  const envelope = createEnvelope(
    route(registry, { workflow: 'w.send', input: {} }),
    {
      runId: `r-${Math.random().toString(36).slice(2)}`,
      trace: { traceparent, tracestate: 'congo=t61rcWkgMzE', baggage: '' },
      idempotencyKey: null,
    },
    null,
  )
  await broker.submit(envelope)
  const record = await broker.wait(envelope.runId, { until: Date.now() + 10_000 })
  assert.equal(record.status, 'succeeded', JSON.stringify(record.error))
  return record.output as { traceparent?: string; tracestate?: string }
}

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736'

void test('the caller set the random flag: the graph sends it on, in the same trace', async () => {
  const out = await sentOn(`00-${TRACE}-00f067aa0ba902b7-03`)
  const sent = parseTraceparent(out.traceparent)
  assert.equal(sent?.traceId, TRACE)
  assert.notEqual(sent?.parentId, '00f067aa0ba902b7')
  assert.equal(sent?.flags, 0x03)
  assert.equal(out.tracestate, 'congo=t61rcWkgMzE')
})

void test('the caller did not: the graph never claims it', async () => {
  assert.equal(parseTraceparent((await sentOn(`00-${TRACE}-00f067aa0ba902b7-01`)).traceparent)?.flags, 0x01)
  assert.equal(parseTraceparent((await sentOn(`00-${TRACE}-00f067aa0ba902b7-02`)).traceparent)?.flags, 0x02)
})
