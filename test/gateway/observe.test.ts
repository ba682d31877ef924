// Embedded mode: the gateway mounts src/observe's trace store and routes. Here the
// gateway exports its own spans (and the worker's: one process) over OTLP/HTTP to
// its own POST /v1/traces, as `switchyard dev` does, and serves the run tree back.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { initTracing, type RunNode, type RunTree, type Tracing } from '../../src/observe/index.js'
import { get, post, startFixture, type Fixture } from './fixture.js'

let traceDir: string
let fx: Fixture
let tracing: Tracing
before(async () => {
  traceDir = mkdtempSync(join(tmpdir(), 'switchyard-traces-'))
  fx = await startFixture({ traceDir })
  tracing = initTracing({ service: 'switchyard-gateway', env: { SWITCHYARD_TRACES_URL: fx.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' } })
})
after(async () => {
  await tracing.shutdown()
  await fx.close()
  rmSync(traceDir, { recursive: true, force: true })
})

const names = (node: RunNode): unknown => [node.name, ...node.children.map(names)]

void test('GET /v1/traces/{id} returns the run tree the gateway received on POST /v1/traces', async () => {
  const res = await post(`${fx.url}/v1/workflows/echo.say/run`, { text: 'traced' })
  assert.equal(res.status, 200)
  const traceId = res.headers.get('x-switchyard-trace-id') ?? ''
  await tracing.forceFlush()
  const stored = await get(`${fx.url}/v1/traces/${traceId}`)
  assert.equal(stored.status, 200)
  const tree = (stored.body as { tree: RunTree }).tree
  assert.equal(tree.traceId, traceId)
  assert.equal(tree.roots.length, 1)
  assert.deepEqual(names(tree.roots[0] as RunNode), [
    'POST /v1/workflows/{name}/run',
    ['route echo.say'],
    ['enqueue email', ['run echo.say']],
  ])
  // The receiver's own requests are not traced (that would feed back into itself).
  assert.equal(tree.spanCount, 4)
  assert.deepEqual((stored.body as { gaps: string[] }).gaps, [], 'whole: nothing for a reader to wait for')
})

void test('GET /v1/traces/{id} names what a trace still lacks: a queued run has no run span yet', async () => {
  const res = await post(`${fx.url}/v1/workflows/held.wait/run`, {}, { prefer: 'respond-async' })
  assert.equal(res.status, 202)
  const traceId = res.headers.get('x-switchyard-trace-id') ?? ''
  await tracing.forceFlush()
  const stored = await get(`${fx.url}/v1/traces/${traceId}`)
  assert.equal(stored.status, 200)
  assert.deepEqual((stored.body as { gaps: string[] }).gaps, [
    "'enqueue held' has no run span yet (the run is queued or running, or its worker has not exported it yet)",
  ])
})

void test('the console is served at /; an unknown trace is a 404 problem', async () => {
  const ui = await fetch(`${fx.url}/`)
  assert.equal(ui.status, 200)
  assert.match(ui.headers.get('content-type') ?? '', /^text\/html/)
  await ui.text()
  const missing = await get(`${fx.url}/v1/traces/0123456789abcdef0123456789abcdef`)
  assert.equal(missing.status, 404)
  assert.equal((missing.body as { code: string }).code, 'NOT_FOUND')
})

void test('without a trace folder, the trace routes answer 404 problem+json', async () => {
  const bare = await startFixture()
  try {
    const res = await get(`${bare.url}/v1/traces/0123456789abcdef0123456789abcdef`)
    assert.equal(res.status, 404)
    assert.equal(
      (res.body as { detail: string }).detail,
      'GET /v1/traces/0123456789abcdef0123456789abcdef: this gateway has no embedded trace store (it exports traces elsewhere)',
    )
  } finally {
    await bare.close()
  }
})

void test('with tokens, the console page loads without one; the trace data behind it needs a token', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-traces-'))
  const guarded = await startFixture({ traceDir: dir, tokens: ['ui-token'] })
  try {
    const page = await get(`${guarded.url}/`)
    assert.equal(page.status, 200)
    assert.match(page.headers.get('content-type') ?? '', /text\/html/)
    assert.equal((await get(`${guarded.url}/v1/traces`)).status, 401)
    assert.equal((await get(`${guarded.url}/v1/traces`, { authorization: 'Bearer ui-token' })).status, 200)
  } finally {
    await guarded.close()
    rmSync(dir, { recursive: true, force: true })
  }
})

void test('POST /v1/traces with an attribute nested 5,000 levels deep is a 400, not a 500; the gateway goes on', async () => {
  let value = '{"stringValue":"x"}'
  for (let i = 0; i < 5000; i++) value = `{"arrayValue":{"values":[${value}]}}`
  const body = `{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"${'ab'.repeat(16)}","spanId":"${'cd'.repeat(8)}","name":"deep","attributes":[{"key":"deep","value":${value}}]}]}]}]}`
  const res = await fetch(`${fx.url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
  assert.equal(res.status, 400)
  assert.match(((await res.json()) as { detail: string }).detail, /nest past 100 levels/)
  assert.equal((await get(`${fx.url}/healthz`)).status, 200)
})
