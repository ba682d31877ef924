// The read side of the API: workflows, runs, probes and metrics.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { get, post, startFixture, type Fixture } from './fixture.js'
import { sampleValue } from '../helpers/prometheus.js'

let fx: Fixture
before(async () => {
  fx = await startFixture()
})
after(() => fx.close())

void test('GET /v1/workflows lists names, pools, descriptions and schemas, and no file paths', async () => {
  const res = await get(`${fx.url}/v1/workflows`)
  assert.equal(res.status, 200)
  const body = res.body as { registry: string; workflows: Array<Record<string, unknown>> }
  assert.equal(body.registry, fx.registry.digest)
  assert.deepEqual(
    body.workflows.map((w) => [w.name, w.pool, w.description]),
    [
      ['echo.fail', 'email', 'Always fails.'],
      ['echo.say', 'email', 'Repeats the text back.'],
      ['echo.slow', 'email', 'Never finishes before its deadline.'],
      ['echo.watch', 'email', "Runs until its signal aborts, then writes the abort's reason to input.file."],
      ['held.wait', 'held', 'Its pool has no worker.'],
      ['quiet.say', 'quiet', 'Never traced.'],
    ],
  )
  assert.doesNotMatch(JSON.stringify(body), new RegExp(fx.dir.replace(/[/\\]/g, '.')))
})

void test('GET /v1/workflows/{name}: one workflow; 404 with did-you-mean for an unknown one', async () => {
  const res = await get(`${fx.url}/v1/workflows/echo.say`)
  assert.equal(res.status, 200)
  const body = res.body as Record<string, unknown>
  assert.equal(body.name, 'echo.say')
  assert.deepEqual((body.input as { required: string[] }).required, ['text'])
  assert.deepEqual(body.output, { type: 'object', properties: { said: { type: 'string' } } })
  assert.equal(body.timeoutMs, 5000)

  const unknown = await get(`${fx.url}/v1/workflows/echo.sy`)
  assert.equal(unknown.status, 404)
  assert.deepEqual(unknown.body, {
    type: 'urn:switchyard:problem:unknown-workflow',
    title: 'Not Found',
    status: 404,
    detail: "unknown workflow 'echo.sy'. Did you mean 'echo.say'?",
    code: 'UNKNOWN_WORKFLOW',
    workflow: 'echo.sy',
    suggestions: ['echo.say'],
  })
})

void test('GET /v1/runs/{id}: a failed run shows its error and attempts; an unknown id is 404', async () => {
  const failed = await post(`${fx.url}/v1/workflows/echo.fail/run`, {})
  const runId = failed.headers.get('x-switchyard-run-id') ?? ''
  const res = await get(`${fx.url}/v1/runs/${runId}`)
  assert.equal(res.status, 200)
  const body = res.body as Record<string, unknown>
  assert.equal(body.status, 'failed')
  assert.deepEqual(body.error, { code: 'GRAPH_FAILED', message: 'the lead has no e-mail address', retryable: true })
  assert.equal(body.attempts, 1)
  assert.equal(body.maxAttempts, 1)
  assert.equal(typeof body.durationMs, 'number')
  assert.match(String(body.createdAt), /^\d{4}-\d\d-\d\dT/)

  const missing = await get(`${fx.url}/v1/runs/no-such-run`)
  assert.equal(missing.status, 404)
  assert.deepEqual(missing.body, {
    type: 'urn:switchyard:problem:unknown-run',
    title: 'Not Found',
    status: 404,
    detail: "no run with id 'no-such-run' (finished runs are kept for a while, not forever)",
    code: 'UNKNOWN_RUN',
    runId: 'no-such-run',
  })
})

void test('/healthz is ok; /readyz is 503 while a pool has no worker', async () => {
  const health = await get(`${fx.url}/healthz`)
  assert.deepEqual([health.status, health.body], [200, { status: 'ok' }])
  const ready = await get(`${fx.url}/readyz`)
  assert.equal(ready.status, 503)
  assert.equal(ready.headers.get('retry-after'), '1')
  assert.equal((ready.body as { code: string }).code, 'POOL_UNAVAILABLE')
  assert.equal((ready.body as { detail: string }).detail, "not ready: pool 'held' has no worker")
})

void test('/metrics: Prometheus text with request counts and pool gauges', async () => {
  await post(`${fx.url}/v1/workflows/echo.say/run`, { text: 'count me' })
  const res = await fetch(`${fx.url}/metrics`)
  assert.equal(res.status, 200)
  assert.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8')
  const text = await res.text()
  const run = { method: 'POST', route: '/v1/workflows/{name}/run' }
  assert.ok((sampleValue(text, 'switchyard_gateway_requests_total', { ...run, status: 200 }) ?? 0) >= 1)
  assert.ok((sampleValue(text, 'switchyard_gateway_runs_total', { outcome: 'succeeded', pool: 'email', workflow: 'echo.say' }) ?? 0) >= 1)
  assert.equal(sampleValue(text, 'switchyard_pool_workers', { pool: 'email' }), 1)
  assert.equal(sampleValue(text, 'switchyard_pool_workers', { pool: 'held' }), 0)
  assert.equal(sampleValue(text, 'switchyard_broker_up'), 1)
})

void test('a port in use is a clear error at start', async () => {
  const { startGateway } = await import('../../src/gateway/index.js')
  const port = Number(new URL(fx.url).port)
  await assert.rejects(startGateway({ registry: fx.registry, broker: fx.broker, port, tokens: null, signingKey: null }), {
    message: `cannot listen on 127.0.0.1:${port}: the port is in use (pick another with --port, or 0 for any free port)`,
  })
})

void test('a caller that hangs up while waiting leaves the run going, and is counted as 499', async () => {
  const controller = new AbortController()
  const pending = fetch(`${fx.url}/v1/workflows/echo.slow/run`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
    signal: controller.signal,
  })
  for (let i = 0; i < 500 && (await fx.broker.list({ workflow: 'echo.slow', status: 'running' })).length !== 1; i++) {
    await new Promise((r) => setTimeout(r, 10))
  }
  controller.abort()
  await assert.rejects(pending, { name: 'AbortError' })
  let text = ''
  for (let i = 0; i < 100 && !/status="499"/.test(text); i++) {
    await new Promise((r) => setTimeout(r, 20))
    text = await (await fetch(`${fx.url}/metrics`)).text()
  }
  assert.equal(
    sampleValue(text, 'switchyard_gateway_requests_total', { method: 'POST', route: '/v1/workflows/{name}/run', status: 499 }),
    1,
  )
  // Not lost with its caller: the run goes on to its end (here, its deadline).
  const [run] = await fx.broker.list({ workflow: 'echo.slow' })
  assert.ok(run, 'the run is still there')
  const settled = await fx.broker.wait(run.runId, { until: Date.now() + 5000 })
  assert.equal(settled.error?.code, 'DEADLINE_EXCEEDED')
})
