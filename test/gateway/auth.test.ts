// Bearer tokens: 401 with WWW-Authenticate when missing or wrong; probes stay open.
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { after, before, test } from 'node:test'
import { parseTokens, parseTokensFile } from '../../src/gateway/index.js'
import { createAuthenticator } from '../../src/gateway/auth.js'
import { callerOf, runOwner, type Grant } from '../../src/gateway/scopes.js'
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

void test("a token's run owner id (who its runs belong to): the same for the token and its sha256: form, and neither the token nor its digest", () => {
  const digest = createHash('sha256').update('owner-token-0001').digest()
  const authenticate = createAuthenticator({ tokens: parseTokensFile(`owner-token-0001 run\nother-token-0001 run`, 'tokens') })
  const hashed = createAuthenticator({ tokens: parseTokensFile(`sha256:${digest.toString('hex')} run name=renamed`, 'tokens') })
  const owner = runOwner(authenticate('Bearer owner-token-0001'))
  assert.match(owner, /^token\.[A-Za-z0-9_-]{16}$/)
  assert.equal(runOwner(hashed('Bearer owner-token-0001')), owner)
  assert.notEqual(runOwner(authenticate('Bearer other-token-0001')), owner)
  const id = owner.slice('token.'.length)
  assert.ok(!digest.toString('hex').includes(id) && !digest.toString('base64url').includes(id) && !owner.includes('owner-token'))
  // Without tokens: the one anonymous caller.
  assert.equal(runOwner(createAuthenticator({ tokens: null })('Bearer anything')), 'anonymous')
})

void test('a grant always has its own id: two tokens with one name are two owners, and an id-less grant does not type-check', () => {
  const authenticate = createAuthenticator({
    tokens: parseTokensFile('ci-token-0001 run name=ci\nci-token-0002 run name=ci\nlegacy-0001,legacy-0002\n', 'tokens'),
  })
  const callers = ['ci-token-0001', 'ci-token-0002', 'legacy-0001', 'legacy-0002'].map((t) => authenticate(`Bearer ${t}`))
  // Same labels (name=ci twice; a legacy line names both its tokens after the line)...
  assert.deepEqual(
    callers.map((c) => c.name),
    ['ci', 'ci', 'tokens:3', 'tokens:3'],
  )
  // ...but four owners: each caller's runs and idempotency keys are its own.
  const owners = callers.map(runOwner)
  assert.equal(new Set(owners).size, 4, owners.join(' '))
  for (const owner of owners) assert.match(owner, /^token\.[A-Za-z0-9_-]{16}$/)

  // Types (npm run check fails when either line stops being an error): a Grant needs its
  // id, and a tokens-file entry's grant cannot become a caller without the authenticator.
  // @ts-expect-error id is required
  const idless: Grant = { name: 'ci', roles: ['run'] }
  const entry = parseTokensFile('ci-token-0001 run name=ci', 'tokens')[0]!
  // @ts-expect-error a TokenGrant has no id (and callerOf no longer falls back to its name)
  assert.throws(() => runOwner(callerOf(entry.grant)))
  void idless
})
