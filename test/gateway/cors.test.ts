// CORS: off by default; with origins configured, a browser on one of them may call
// the API (preflight without a token, readable run and trace ids), others may not.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { post, startFixture, type Fixture } from './fixture.js'

const APP = 'https://app.example'
let fx: Fixture
before(async () => {
  fx = await startFixture({ tokens: ['t0ken'], corsOrigins: [APP] })
})
after(() => fx.close())

const RUN = () => `${fx.url}/v1/workflows/echo.say/run`

void test('a preflight from an allowed origin is answered without a token', async () => {
  const res = await fetch(RUN(), {
    method: 'OPTIONS',
    headers: { origin: APP, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
  })
  assert.equal(res.status, 204)
  assert.equal(res.headers.get('access-control-allow-origin'), APP)
  assert.equal(res.headers.get('access-control-allow-methods'), 'POST, OPTIONS')
  assert.equal(
    res.headers.get('access-control-allow-headers'),
    'authorization, content-type, idempotency-key, prefer, traceparent, tracestate, baggage, x-switchyard-force-trace',
  )
  assert.equal(res.headers.get('vary'), 'Origin')
})

void test('a call from an allowed origin may read the run and trace ids; another origin gets no CORS headers', async () => {
  const ok = await post(RUN(), { text: 'hi' }, { origin: APP, authorization: 'Bearer t0ken' })
  assert.equal(ok.status, 200)
  assert.equal(ok.headers.get('access-control-allow-origin'), APP)
  assert.equal(
    ok.headers.get('access-control-expose-headers'),
    'x-switchyard-run-id, x-switchyard-trace-id, server-timing, retry-after, location',
  )
  const denied = await post(RUN(), { text: 'hi' }, { origin: 'https://evil.example', authorization: 'Bearer t0ken' })
  assert.equal(denied.headers.get('access-control-allow-origin'), null)
  const preflight = await fetch(RUN(), { method: 'OPTIONS', headers: { origin: 'https://evil.example' } })
  assert.equal(preflight.status, 204)
  assert.equal(preflight.headers.get('access-control-allow-origin'), null)
  assert.equal(preflight.headers.get('allow'), 'POST, OPTIONS')
})
