// A run's input and output per its pool's `capture`, in both places a reader finds them:
// GET /v1/runs/{id} and the worker's `run` span. `full` as it was; `redacted` with
// e-mail addresses, phone numbers and the pool's `redact` keys (at any depth) masked;
// `none` nothing. Lists never carry inputs. A real gateway, broker and workers.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, beforeEach, test } from 'node:test'
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base'
import { loadRegistry } from '../../../src/control/index.js'
import { MemoryBroker } from '../../../src/data/broker/memory/index.js'
import { createWorker, type PoolWorker } from '../../../src/data/worker/index.js'
import { startGateway, type Gateway } from '../../../src/gateway/index.js'
import { silentLogger } from '../../../src/graph/index.js'
import { captureByPool, initTracing, type Tracing } from '../../../src/observe/index.js'

const YAML = `version: 1
pools:
  open: { tracing: { project: open, sampleRate: 1, capture: full } }
  masked: { tracing: { project: masked, sampleRate: 1, capture: redacted, redact: [secret] } }
  blind: { tracing: { project: blind, sampleRate: 1, capture: none } }
workflows:
  open.echo: { pool: open, graph: echo.mjs#graph, description: Echo., input: { type: object } }
  masked.echo: { pool: masked, graph: echo.mjs#graph, description: Echo., input: { type: object } }
  blind.echo: { pool: blind, graph: echo.mjs#graph, description: Echo., input: { type: object } }
`
const INPUT = { lead: { email: 'ada@example.com', profile: { secret: 'hunter2', city: 'Oslo' } }, note: 'call +1 415 555 2671' }

let dir: string
let broker: MemoryBroker
let workers: PoolWorker[]
let gateway: Gateway
let tracing: Tracing
const exporter = new InMemorySpanExporter()

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'switchyard-capture-'))
  writeFileSync(join(dir, 'switchyard.yaml'), YAML)
  writeFileSync(join(dir, 'echo.mjs'), 'export function graph() { return (input) => ({ echoed: input }) }\n')
  const registry = loadRegistry(join(dir, 'switchyard.yaml'))
  tracing = initTracing({ service: 'switchyard-gateway', env: {}, exporter, tracing: captureByPool(registry.pools.values()) })
  broker = new MemoryBroker({ pools: registry.pools.values() })
  const log = { ...silentLogger, child: () => silentLogger }
  workers = ['open', 'masked', 'blind'].map((pool) =>
    createWorker({ pool, registry, source: broker.source(pool), verifyKeys: null, watchdogGraceMs: null, log }),
  )
  for (const worker of workers) await worker.start()
  gateway = await startGateway({ registry, broker, port: 0, tokens: null, signingKey: null })
})
after(async () => {
  await gateway.close()
  for (const worker of workers) await worker.close()
  await broker.close()
  await tracing.shutdown()
  rmSync(dir, { recursive: true, force: true })
})
beforeEach(async () => {
  await tracing.forceFlush()
  exporter.reset()
})

async function run(workflow: string) {
  const response = await fetch(`${gateway.url}/v1/workflows/${workflow}/run`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(INPUT),
  })
  assert.equal(response.status, 200)
  const runId = response.headers.get('x-switchyard-run-id') ?? ''
  const view = (await (await fetch(`${gateway.url}/v1/runs/${runId}`)).json()) as { input?: unknown; capture?: string }
  await tracing.forceFlush()
  const span = exporter.getFinishedSpans().find((s) => s.name === `run ${workflow}`)
  assert.ok(span, `no run span for ${workflow}`)
  const attribute = (key: string) => {
    const value = span.attributes[key]
    return value === undefined ? undefined : (JSON.parse(String(value)) as unknown)
  }
  return { view, input: attribute('switchyard.input'), output: attribute('switchyard.output') }
}

void test('capture: full — the input as it was, in GET /v1/runs/{id} and on the run span, and the output', async () => {
  const { view, input, output } = await run('open.echo')
  assert.equal(view.capture, 'full')
  assert.deepEqual(view.input, INPUT)
  assert.deepEqual(input, INPUT)
  assert.deepEqual(output, { echoed: INPUT })
})

void test('capture: redacted — e-mail, phone and the pool’s redact keys masked, at any depth, in both places', async () => {
  const { view, input, output } = await run('masked.echo')
  const masked = { lead: { email: '[email]', profile: { secret: '[redacted]', city: 'Oslo' } }, note: 'call [phone]' }
  assert.equal(view.capture, 'redacted')
  assert.deepEqual(view.input, masked)
  assert.deepEqual(input, masked)
  assert.deepEqual(output, { echoed: masked })
})

void test('capture: none — no input anywhere, and no output on the span', async () => {
  const { view, input, output } = await run('blind.echo')
  assert.equal(view.capture, 'none')
  assert.equal('input' in view, false)
  assert.equal(input, undefined)
  assert.equal(output, undefined)
})

void test('GET /v1/runs lists runs without their inputs', async () => {
  const { runs } = (await (await fetch(`${gateway.url}/v1/runs?limit=10`)).json()) as { runs: Array<Record<string, unknown>> }
  assert.ok(runs.length > 0)
  for (const listed of runs) assert.equal('input' in listed, false)
})
