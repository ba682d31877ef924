// SECURITY.md, `switchyard dev`: without tokens the gateway has one caller, `anonymous`,
// so any process that reaches its port is every other: it reads any run, cancels it,
// gets its output back by repeating its Idempotency-Key, and continues its trace. This
// test holds the page to that (and to tokens as the way out): should an open gateway
// start telling callers apart, the page must say so.
//
// Real parts: the gateway on loopback as `dev` starts it (no tokens, an ingest secret),
// with its own spans in its store; two callers are two independent HTTP clients.
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { SERVICE } from '../../src/control/index.js'
import { newIngestSecret, parseTokensFile } from '../../src/gateway/index.js'
import { StoreSpanExporter, initTracing, type Tracing } from '../../src/observe/index.js'
import { eventually } from '../helpers/eventually.js'
import { get, post, startFixture, type Fixture } from '../gateway/fixture.js'

let dir: string
let open: Fixture
let guarded: Fixture
let tracing: Tracing

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'switchyard-open-dev-'))
  open = await startFixture({ tokens: null, ingestSecret: newIngestSecret(), traceDir: join(dir, 'traces') })
  tracing = initTracing({ service: SERVICE.gateway, env: {}, exporter: new StoreSpanExporter(open.gateway.traceStore!) })
  // `dev` with SWITCHYARD_TOKENS (a string: full privilege), beside the scoped tokens `start --tokens-file` takes.
  guarded = await startFixture({
    tokens: ['dev-env-token', ...parseTokensFile('first-runner-token run\nsecond-runner-token run\n', 'tokens')],
  })
})
after(async () => {
  await tracing.shutdown()
  await open.close()
  await guarded.close()
  rmSync(dir, { recursive: true, force: true })
})

void test('open dev: another local process reads a run, repeats its key for its output, joins its trace and cancels it; with tokens it cannot', async () => {
  // The first process: a run with a key, under a trace of its own.
  const traceId = 'a1'.repeat(16)
  const traceparent = `00-${traceId}-${'b2'.repeat(8)}-01`
  const first = await post(`${open.url}/v1/workflows/echo.say/run`, { text: 'private' }, { 'idempotency-key': 'k-1', traceparent })
  assert.equal(first.status, 200)
  const runId = first.headers.get('x-switchyard-run-id') ?? ''
  assert.equal(first.headers.get('x-switchyard-trace-id'), traceId)

  // The other process, no token either: it is the same caller.
  const read = await get(`${open.url}/v1/runs/${runId}`)
  assert.equal(read.status, 200)
  assert.deepEqual((read.body as { output: unknown }).output, { said: 'private' })
  const again = await post(`${open.url}/v1/workflows/echo.say/run`, { text: 'private' }, { 'idempotency-key': 'k-1' })
  assert.equal(again.headers.get('x-switchyard-run-id'), runId)
  assert.deepEqual(again.body, { said: 'private' })
  await tracing.forceFlush()
  const joined = await post(`${open.url}/v1/workflows/echo.say/run`, { text: 'joined' }, { traceparent })
  assert.equal(joined.headers.get('x-switchyard-trace-id'), traceId, 'it continues the first caller’s trace')

  const file = join(dir, 'watch.json')
  const running = await post(`${open.url}/v1/workflows/echo.watch/run`, { file }, { prefer: 'respond-async' })
  assert.equal(running.status, 202)
  const watched = running.headers.get('x-switchyard-run-id') ?? ''
  await eventually('the graph to start', () => existsSync(`${file}.started`))
  const cancelled = await post(`${open.url}/v1/runs/${watched}/cancel`, '')
  assert.ok([200, 202].includes(cancelled.status), JSON.stringify(cancelled.body))
  assert.equal((await open.broker.wait(watched, { until: Date.now() + 20_000 })).status, 'cancelled')

  // What SECURITY.md tells `dev` users to do instead: tokens. A process without one is
  // refused; with scoped tokens (start --tokens-file) each caller is its own.
  assert.equal((await get(`${guarded.url}/v1/runs`)).status, 401)
  assert.equal((await get(`${guarded.url}/v1/runs`, { authorization: 'Bearer dev-env-token' })).status, 200)
  const mine = { authorization: 'Bearer first-runner-token' }
  const theirs = { authorization: 'Bearer second-runner-token' }
  const owned = await post(`${guarded.url}/v1/workflows/echo.say/run`, { text: 'private' }, { ...mine, 'idempotency-key': 'k-1' })
  const ownedId = owned.headers.get('x-switchyard-run-id') ?? ''
  assert.equal((await get(`${guarded.url}/v1/runs/${ownedId}`, theirs)).status, 403)
  const other = await post(`${guarded.url}/v1/workflows/echo.say/run`, { text: 'private' }, { ...theirs, 'idempotency-key': 'k-1' })
  assert.notEqual(other.headers.get('x-switchyard-run-id'), ownedId)
  assert.equal((await post(`${guarded.url}/v1/runs/${ownedId}/cancel`, '', theirs)).status, 403)
})
