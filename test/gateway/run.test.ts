// POST /v1/workflows/{name}/run on a real gateway, broker and worker: the flat
// output, and every error status of DESIGN §2.3 as the problem+json a caller sees.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { MemoryBroker } from '../../src/data/broker/memory/index.js'
import { startGateway } from '../../src/gateway/index.js'
import { sampleValue } from '../helpers/prometheus.js'
import { get, post, startFixture, writeRegistry, type Fixture } from './fixture.js'

const TRACE_ID = /^[0-9a-f]{32}$/
const RUN_ID = /^[0-9a-f-]{36}$/

let fx: Fixture
before(async () => {
  fx = await startFixture({ bodyLimitBytes: 256 })
})
after(() => fx.close())

const run = (name: string) => `${fx.url}/v1/workflows/${name}/run`

void test('200: the body is the flat output; run and trace ids in headers; schema defaults applied', async () => {
  const res = await post(run('echo.say'), { text: 'hello' })
  assert.equal(res.status, 200)
  assert.deepEqual(res.body, { said: 'hello' })
  assert.match(res.headers.get('x-switchyard-run-id') ?? '', RUN_ID)
  assert.match(res.headers.get('x-switchyard-trace-id') ?? '', TRACE_ID)
  assert.deepEqual((await post(run('echo.say'), { text: 'hey', shout: true })).body, { said: 'HEY' })
})

void test('202: Prefer: respond-async answers at once with Location; GET /v1/runs/{id} shows the outcome', async () => {
  const res = await post(run('echo.say'), { text: 'later' }, { prefer: 'respond-async' })
  assert.equal(res.status, 202)
  const runId = res.headers.get('x-switchyard-run-id') ?? ''
  assert.equal(res.headers.get('location'), `/v1/runs/${runId}`)
  assert.equal(res.headers.get('preference-applied'), 'respond-async')
  assert.equal((res.body as { runId: string }).runId, runId)
  await fx.broker.wait(runId, { until: Date.now() + 5000 })
  const view = await get(`${fx.url}/v1/runs/${runId}`)
  assert.equal(view.status, 200)
  const body = view.body as Record<string, unknown>
  assert.equal(body.status, 'succeeded')
  assert.deepEqual(body.output, { said: 'later' })
  assert.equal(body.workflow, 'echo.say')
  assert.equal(body.pool, 'email')
  assert.equal(body.attempts, 1)
  assert.match(String(body.traceId), TRACE_ID)
  assert.equal(body.traceId, res.headers.get('x-switchyard-trace-id'))
})

void test('400: malformed JSON and an empty body', async () => {
  const bad = await post(run('echo.say'), '{"text": ')
  assert.equal(bad.status, 400)
  assert.equal(bad.headers.get('content-type'), 'application/problem+json')
  const body = bad.body as Record<string, unknown>
  assert.equal(body.code, 'BAD_REQUEST')
  assert.equal(body.type, 'urn:switchyard:problem:bad-request')
  assert.equal(body.title, 'Bad Request')
  assert.equal(body.workflow, 'echo.say')
  assert.match(String(body.detail), /^the body is not valid JSON: /)
  assert.match(String(body.traceId), TRACE_ID)

  const empty = await post(run('echo.say'), '')
  assert.equal(empty.status, 400)
  assert.equal((empty.body as { detail: string }).detail, 'the body is empty; send the workflow input as JSON ({} when it takes none)')
})

void test('413: a body over the limit', async () => {
  const res = await post(run('echo.say'), { text: 'x'.repeat(300) })
  assert.equal(res.status, 413)
  const { traceId, ...rest } = res.body as Record<string, unknown>
  assert.match(String(traceId), TRACE_ID)
  assert.deepEqual(rest, {
    type: 'urn:switchyard:problem:payload-too-large',
    title: 'Content Too Large',
    status: 413,
    detail: 'the body is larger than the limit of 256 bytes',
    code: 'PAYLOAD_TOO_LARGE',
    workflow: 'echo.say',
  })
})

void test('415: a body that is not JSON', async () => {
  const res = await fetch(run('echo.say'), { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' })
  assert.equal(res.status, 415)
  const body = (await res.json()) as Record<string, unknown>
  assert.equal(body.code, 'UNSUPPORTED_MEDIA_TYPE')
  assert.equal(body.detail, "the body must be JSON (content-type: application/json); got 'text/plain'")
})

void test('404: an unknown workflow, with did-you-mean', async () => {
  const res = await post(run('echo.sya'), { text: 'hi' })
  assert.equal(res.status, 404)
  const { traceId, ...rest } = res.body as Record<string, unknown>
  assert.match(String(traceId), TRACE_ID)
  assert.deepEqual(rest, {
    type: 'urn:switchyard:problem:unknown-workflow',
    title: 'Not Found',
    status: 404,
    detail: "unknown workflow 'echo.sya'. Did you mean 'echo.say'?",
    code: 'UNKNOWN_WORKFLOW',
    workflow: 'echo.sya',
    suggestions: ['echo.say'],
  })
})

void test('422: invalid input, with the list of JSON-pointer paths', async () => {
  const res = await post(run('echo.say'), { text: 5, extra: true })
  assert.equal(res.status, 422)
  const { traceId, ...rest } = res.body as Record<string, unknown>
  assert.match(String(traceId), TRACE_ID)
  assert.deepEqual(rest, {
    type: 'urn:switchyard:problem:invalid-input',
    title: 'Unprocessable Content',
    status: 422,
    detail: "invalid input for 'echo.say': /extra: is not allowed; /text: must be string",
    code: 'INVALID_INPUT',
    workflow: 'echo.say',
    pool: 'email',
    errors: [
      { path: '/extra', message: 'is not allowed' },
      { path: '/text', message: 'must be string' },
    ],
  })
})

// Without tokens there is one caller (anonymous): every key is its own. Per-caller keys: test/security/idempotency-owners.test.ts.
void test('409: the same Idempotency-Key with another input; the same input returns the same run', async () => {
  const first = await post(run('echo.say'), { text: 'once' }, { 'idempotency-key': 'lead-42' })
  const again = await post(run('echo.say'), { text: 'once' }, { 'idempotency-key': 'lead-42' })
  assert.equal(again.status, 200)
  assert.equal(again.headers.get('x-switchyard-run-id'), first.headers.get('x-switchyard-run-id'))
  assert.equal(again.headers.get('x-switchyard-trace-id'), first.headers.get('x-switchyard-trace-id'))
  const conflict = await post(run('echo.say'), { text: 'twice' }, { 'idempotency-key': 'lead-42' })
  assert.equal(conflict.status, 409)
  const body = conflict.body as Record<string, unknown>
  assert.equal(body.code, 'IDEMPOTENCY_CONFLICT')
  assert.equal(
    body.detail,
    `idempotency key 'lead-42' was already used by this caller for workflow 'echo.say' with a different input (run ${first.headers.get('x-switchyard-run-id')})`,
  )
})

void test('502: the run failed, with the graph error code and the run id', async () => {
  const res = await post(run('echo.fail'), {})
  assert.equal(res.status, 502)
  const body = res.body as Record<string, unknown>
  assert.equal(body.code, 'GRAPH_FAILED')
  assert.equal(body.title, 'Bad Gateway')
  assert.equal(body.detail, 'the lead has no e-mail address')
  assert.equal(body.runId, res.headers.get('x-switchyard-run-id'))
  assert.equal(body.pool, 'email')
  assert.match(String(body.traceId), TRACE_ID)
})

void test('504: the worker stopped the run at its deadline', async () => {
  const res = await post(run('echo.slow'), {})
  assert.equal(res.status, 504)
  const body = res.body as Record<string, unknown>
  assert.equal(body.code, 'DEADLINE_EXCEEDED')
  assert.equal(body.runId, res.headers.get('x-switchyard-run-id'))
})

void test('503 at once while no worker of its pool is alive; an async run is queued (202); 429 once its queue is full', async () => {
  const refused = await post(run('held.wait'), {})
  assert.equal(refused.status, 503)
  assert.equal(refused.headers.get('retry-after'), '1')
  const problem = refused.body as Record<string, unknown>
  assert.equal(problem.code, 'POOL_UNAVAILABLE')
  assert.equal(problem.pool, 'held')
  assert.equal(
    problem.detail,
    "pool 'held' is unavailable: no worker of the pool is alive (ask with Prefer: respond-async to queue the run anyway); retry later",
  )
  const queued = await post(run('held.wait'), {}, { prefer: 'respond-async' })
  assert.equal(queued.status, 202)
  const runId = queued.headers.get('x-switchyard-run-id')
  assert.equal((queued.body as { status: string; runId: string }).status, 'queued')
  assert.equal((queued.body as { runId: string }).runId, runId)
  const saturated = await post(run('held.wait'), {}, { prefer: 'respond-async' })
  assert.equal(saturated.status, 429)
  assert.equal(saturated.headers.get('retry-after'), '1')
  const body = saturated.body as Record<string, unknown>
  assert.equal(body.code, 'POOL_SATURATED')
  assert.equal(body.detail, "pool 'held' is saturated: 1 runs are already queued; retry later")
  assert.equal(body.pool, 'held')
})

void test('a failure code the pool made up counts under outcome="other": the pool cannot open metric series', async () => {
  const { registry } = writeRegistry()
  const broker = new MemoryBroker({ pools: registry.pools.values() })
  // The pool's consumer: every run fails with a code of its own making, a new one each time.
  let n = 0
  broker
    .source('email')
    .start(async () => ({ ok: false, error: { code: `MADE_UP_${n++}_${'X'.repeat(200)}`, message: 'no', retryable: false } }), {
      concurrency: 1,
    })
  const gateway = await startGateway({ registry, broker, port: 0, tokens: null, signingKey: null })
  try {
    for (let i = 0; i < 3; i++) {
      const res = await post(`${gateway.url}/v1/workflows/echo.say/run`, { text: 'hi' })
      assert.equal(res.status, 502)
      assert.equal((res.body as { code: string }).code, 'GRAPH_FAILED')
    }
    const text = String((await get(`${gateway.url}/metrics`)).body)
    assert.equal(sampleValue(text, 'switchyard_gateway_runs_total', { workflow: 'echo.say', pool: 'email', outcome: 'other' }), 3)
    assert.doesNotMatch(text, /made_up/)
  } finally {
    await gateway.close()
    await broker.close()
  }
})

void test('503: the broker is unavailable', async () => {
  const { registry } = writeRegistry()
  const broker = new MemoryBroker({ pools: registry.pools.values() })
  await broker.close()
  const gateway = await startGateway({ registry, broker, port: 0, tokens: null, signingKey: null })
  try {
    const res = await post(`${gateway.url}/v1/workflows/echo.say/run`, { text: 'hi' })
    assert.equal(res.status, 503)
    assert.equal(res.headers.get('retry-after'), '1')
    const body = res.body as Record<string, unknown>
    assert.equal(body.code, 'BROKER_UNAVAILABLE')
    assert.equal(body.detail, 'the memory broker is closed')
  } finally {
    await gateway.close()
  }
})

void test('405 with Allow, and 404 for a path that is no route', async () => {
  const wrong = await get(run('echo.say'))
  assert.equal(wrong.status, 405)
  assert.equal(wrong.headers.get('allow'), 'POST')
  assert.equal((wrong.body as { detail: string }).detail, 'GET is not allowed on /v1/workflows/echo.say/run; use POST')
  const none = await get(`${fx.url}/v2/nothing`)
  assert.equal(none.status, 404)
  assert.equal((none.body as { code: string }).code, 'NOT_FOUND')
})
