// Bearer tokens: 401 with WWW-Authenticate when missing or wrong; probes stay open.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { parseTokens } from '../../src/gateway/index.js'
import { get, post, startFixture, type Fixture } from './fixture.js'

let fx: Fixture
before(async () => {
  fx = await startFixture({ tokens: ['alpha-token', 'beta-token'] })
})
after(() => fx.close())

void test('401 without a token, with WWW-Authenticate, and no trace: a refused request starts no span', async () => {
  const res = await post(`${fx.url}/v1/workflows/echo.say/run`, { text: 'hi' })
  assert.equal(res.status, 401)
  assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="switchyard"')
  assert.equal(res.headers.get('x-switchyard-trace-id'), null)
  assert.deepEqual(res.body, {
    type: 'urn:switchyard:problem:unauthorized',
    title: 'Unauthorized',
    status: 401,
    detail: 'missing bearer token: send Authorization: Bearer <token>',
    code: 'UNAUTHORIZED',
  })
})

void test('401 for a wrong token (invalid_token), 200 for any listed token', async () => {
  const wrong = await get(`${fx.url}/v1/workflows`, { authorization: 'Bearer alpha-tokem' })
  assert.equal(wrong.status, 401)
  assert.equal(wrong.headers.get('www-authenticate'), 'Bearer realm="switchyard", error="invalid_token"')
  assert.equal((wrong.body as { detail: string }).detail, 'invalid bearer token')
  const basic = await get(`${fx.url}/v1/workflows`, { authorization: 'Basic YWxhZGRpbjpvcGVu' })
  assert.equal(basic.status, 401)
  for (const token of ['alpha-token', 'beta-token']) {
    const ok = await get(`${fx.url}/v1/workflows`, { authorization: `Bearer ${token}` })
    assert.equal(ok.status, 200)
  }
  const run = await post(`${fx.url}/v1/workflows/echo.say/run`, { text: 'hi' }, { authorization: 'Bearer beta-token' })
  assert.deepEqual(run.body, { said: 'hi' })
})

void test('liveness and readiness probes need no token; metrics and runs do', async () => {
  assert.equal((await get(`${fx.url}/healthz`)).status, 200)
  assert.notEqual((await get(`${fx.url}/readyz`)).status, 401)
  assert.equal((await get(`${fx.url}/metrics`)).status, 401)
  assert.equal((await get(`${fx.url}/v1/runs/nope`)).status, 401)
})

void test('parseTokens: comma or newline separated, blanks and # lines dropped', () => {
  assert.deepEqual(parseTokens('a, b,,c'), ['a', 'b', 'c'])
  assert.deepEqual(parseTokens('# ops team\nfirst\n\n  second  \r\n'), ['first', 'second'])
})
