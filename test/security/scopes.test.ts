// Issue 12.5: every token read every run, output and trace. Tokens now carry scopes
// (roles run, read, metrics, ingest, admin; allowed workflows and pools), every route
// checks them, and a token without the scope gets 403 problem+json FORBIDDEN — before
// any span starts or anything is queued.
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { parseTokensFile } from '../../src/gateway/index.js'
import { StoreSpanExporter, initTracing, type Tracing } from '../../src/observe/index.js'
import { sampleValue } from '../helpers/prometheus.js'
import { get, post, startFixture, type Fixture } from '../gateway/fixture.js'

const TOKENS = `
# token              roles      restrictions            label
runner-token-0001    run        workflows=echo.*        name=runner
reader-token-0001    read       pools=email             name=reader
scraper-token-001    metrics                            name=scraper
quiet-token-00001    run,read   workflows=quiet.say     name=quiet
full-token-000001
sha256:${createHash('sha256').update('hashed-token-0001').digest('hex')} read name=hashed
`

const bearer = (token: string) => ({ authorization: `Bearer ${token}` })
const RUNNER = bearer('runner-token-0001')
const READER = bearer('reader-token-0001')
const SCRAPER = bearer('scraper-token-001')
const QUIET = bearer('quiet-token-00001')
const FULL = bearer('full-token-000001')

let fx: Fixture
let traceDir: string
let tracing: Tracing
const seeded: Record<string, { runId: string; traceId: string }> = {}

before(async () => {
  traceDir = mkdtempSync(join(tmpdir(), 'switchyard-scopes-'))
  fx = await startFixture({ tokens: parseTokensFile(TOKENS, 'tokens'), traceDir })
  // The gateway's spans go straight into its store, as in `switchyard dev`.
  tracing = initTracing({ service: 'switchyard-gateway', env: {}, exporter: new StoreSpanExporter(fx.gateway.traceStore!) })
  for (const [workflow, headers] of [
    ['echo.say', {}],
    ['quiet.say', {}],
    ['held.wait', { prefer: 'respond-async' }],
  ] as const) {
    const res = await post(`${fx.url}/v1/workflows/${workflow}/run`, { text: 'seed' }, { ...FULL, ...headers })
    assert.ok(res.status === 200 || res.status === 202, `${workflow}: ${res.status}`)
    seeded[workflow] = { runId: res.headers.get('x-switchyard-run-id') ?? '', traceId: res.headers.get('x-switchyard-trace-id') ?? '' }
  }
  await tracing.forceFlush()
})
after(async () => {
  await tracing.shutdown()
  await fx.close()
  rmSync(traceDir, { recursive: true, force: true })
})

function assertForbidden(res: { status: number; headers: Headers; body: unknown }, detail: RegExp): void {
  assert.equal(res.status, 403)
  assert.equal(res.headers.get('content-type'), 'application/problem+json')
  const problem = res.body as { code: string; detail: string; type: string }
  assert.equal(problem.code, 'FORBIDDEN')
  assert.equal(problem.type, 'urn:switchyard:problem:forbidden')
  assert.match(problem.detail, detail)
}

void test('run: a token runs the workflows its patterns name, and nothing else', async () => {
  const ok = await post(`${fx.url}/v1/workflows/echo.say/run`, { text: 'hi' }, RUNNER)
  assert.equal(ok.status, 200)
  assert.deepEqual(ok.body, { said: 'hi' })
  assertForbidden(await post(`${fx.url}/v1/workflows/quiet.say/run`, {}, RUNNER), /token 'runner' may not run workflow 'quiet.say'/)
  // A name outside its scope is a 403 whether the workflow exists or not: no probing for names.
  assertForbidden(await post(`${fx.url}/v1/workflows/nope.nothing/run`, {}, RUNNER), /may not run workflow 'nope.nothing'/)
  assert.equal((await post(`${fx.url}/v1/workflows/nope.nothing/run`, {}, FULL)).status, 404)
  // Reading needs `read`, even for runs it started; the metrics need `metrics`.
  assertForbidden(await get(`${fx.url}/v1/runs`, RUNNER), /lacks the 'read' role/)
  assertForbidden(await get(`${fx.url}/v1/runs/${seeded['echo.say']!.runId}`, RUNNER), /lacks the 'read' role/)
  assertForbidden(await get(`${fx.url}/metrics`, RUNNER), /lacks the 'metrics' role/)
  assertForbidden(await get(`${fx.url}/v1/traces`, RUNNER), /lacks the 'read' role/)
})

void test('read: runs, traces and workflows are filtered to the pools a token may read', async () => {
  assertForbidden(await post(`${fx.url}/v1/workflows/echo.say/run`, { text: 'x' }, READER), /lacks the 'run' role/)
  const runs = (await get(`${fx.url}/v1/runs`, READER)).body as { runs: { runId: string; pool: string }[] }
  assert.ok(runs.runs.length > 0)
  assert.deepEqual(new Set(runs.runs.map((r) => r.pool)), new Set(['email']))
  assert.ok(runs.runs.some((r) => r.runId === seeded['echo.say']!.runId))
  // The full token sees the other pools' runs the reader does not.
  const all = (await get(`${fx.url}/v1/runs`, FULL)).body as { runs: { pool: string }[] }
  assert.deepEqual(new Set(all.runs.map((r) => r.pool)), new Set(['email', 'quiet', 'held']))

  assert.equal((await get(`${fx.url}/v1/runs/${seeded['echo.say']!.runId}`, READER)).status, 200)
  assertForbidden(await get(`${fx.url}/v1/runs/${seeded['quiet.say']!.runId}`, READER), /may not read workflow 'quiet.say'/)
  assertForbidden(await get(`${fx.url}/v1/runs?pool=quiet`, READER), /may not read pool 'quiet'/)
  assertForbidden(await get(`${fx.url}/v1/runs?workflow=held.wait`, READER), /may not read workflow 'held.wait'/)

  const traces = (await get(`${fx.url}/v1/traces`, READER)).body as { runs: { pool: string; traceId: string }[] }
  assert.deepEqual(new Set(traces.runs.map((r) => r.pool)), new Set(['email']))
  assert.equal((await get(`${fx.url}/v1/traces/${seeded['echo.say']!.traceId}`, READER)).status, 200)
  assertForbidden(await get(`${fx.url}/v1/traces/${seeded['held.wait']!.traceId}`, READER), /may not read trace/)
  assert.equal((await get(`${fx.url}/v1/traces/${seeded['held.wait']!.traceId}`, FULL)).status, 200)

  const workflows = (await get(`${fx.url}/v1/workflows`, READER)).body as { workflows: { name: string }[] }
  assert.deepEqual(
    workflows.workflows.map((w) => w.name),
    ['echo.fail', 'echo.say', 'echo.slow', 'echo.watch'],
  )
  assertForbidden(await get(`${fx.url}/v1/workflows/quiet.say`, READER), /may not read workflow 'quiet.say'/)
  const pools = (await get(`${fx.url}/v1/pools`, READER)).body as { pools: { name: string }[] }
  assert.deepEqual(
    pools.pools.map((p) => p.name),
    ['email'],
  )
  assert.equal(((await get(`${fx.url}/v1/pools`, FULL)).body as { pools: unknown[] }).pools.length, 3)
})

void test('run and read for one workflow: it runs it, reads its runs, and sees only its schema', async () => {
  const run = await post(`${fx.url}/v1/workflows/quiet.say/run`, {}, { ...QUIET, prefer: 'respond-async' })
  assert.equal(run.status, 202)
  const runId = run.headers.get('x-switchyard-run-id') ?? ''
  assert.equal((await get(`${fx.url}/v1/runs/${runId}`, QUIET)).status, 200)
  const listed = (await get(`${fx.url}/v1/runs`, QUIET)).body as { runs: { workflow: string }[] }
  assert.ok(listed.runs.length >= 2)
  assert.ok(listed.runs.every((r) => r.workflow === 'quiet.say'))
  const workflows = (await get(`${fx.url}/v1/workflows`, QUIET)).body as { workflows: { name: string }[] }
  assert.deepEqual(
    workflows.workflows.map((w) => w.name),
    ['quiet.say'],
  )
  assertForbidden(await get(`${fx.url}/v1/runs/${seeded['echo.say']!.runId}`, QUIET), /may not read workflow 'echo.say'/)
})

void test('metrics: a scraper token reads /metrics and nothing else; a hashed token in the file works as its text', async () => {
  const metrics = await fetch(`${fx.url}/metrics`, { headers: SCRAPER })
  assert.equal(metrics.status, 200)
  const text = await metrics.text()
  assert.ok((sampleValue(text, 'switchyard_gateway_requests_total', { method: 'GET', route: '/v1/runs', status: 403 }) ?? 0) >= 1)
  assertForbidden(await get(`${fx.url}/v1/runs`, SCRAPER), /lacks the 'read' role/)
  assertForbidden(await post(`${fx.url}/v1/workflows/echo.say/run`, { text: 'x' }, SCRAPER), /lacks the 'run' role/)
  assert.deepEqual((await get(`${fx.url}/v1/workflows`, SCRAPER)).body, { registry: fx.registry.digest, workflows: [] })
  assert.equal((await get(`${fx.url}/v1/runs/${seeded['echo.say']!.runId}`, bearer('hashed-token-0001'))).status, 200)
  assert.equal((await get(`${fx.url}/v1/runs`, bearer(`sha256:${'0'.repeat(64)}`))).status, 401)
})

void test('a refused run starts no span, queues nothing and stores nothing', async () => {
  const before = (await get(`${fx.url}/v1/runs?limit=1000`, FULL)).body as { runs: unknown[] }
  const traceId = 'a'.repeat(31) + '1'
  const traceparent = `00-${traceId}-${'b'.repeat(16)}-01`
  for (const [workflow, headers] of [
    ['quiet.say', RUNNER],
    ['echo.say', READER],
    ['echo.say', {}],
    ['echo.say', bearer('not-a-token-at-all')],
  ] as const) {
    const res = await post(`${fx.url}/v1/workflows/${workflow}/run`, { text: 'x' }, { ...headers, traceparent })
    assert.ok(res.status === 401 || res.status === 403)
    assert.equal(res.headers.get('x-switchyard-trace-id'), null)
  }
  await tracing.forceFlush()
  assert.equal((await get(`${fx.url}/v1/traces/${traceId}`, FULL)).status, 404)
  const afterwards = (await get(`${fx.url}/v1/runs?limit=1000`, FULL)).body as { runs: unknown[] }
  assert.equal(afterwards.runs.length, before.runs.length)
})

void test('the tokens file: every problem at file:line, at once', () => {
  assert.throws(
    () =>
      parseTokensFile(
        [
          'tok-aaaaaaaaaaaa runn',
          'tok-bbbbbbbbbbbb admin pools=email',
          'tok-cccccccccccc read colour=blue',
          'tok-aaaaaaaaaaaa read',
          'tok-dddddddddddd read workflows=Email/*',
        ].join('\n'),
        'tokens.txt',
      ),
    (error: Error) => {
      assert.equal(
        error.message,
        [
          "tokens.txt:1: unknown role 'runn' (use run, read, metrics, ingest, admin)",
          'tokens.txt:1: no role given',
          "tokens.txt:2: 'admin' is unrestricted: drop workflows=/pools=, or grant run, read, metrics or ingest instead",
          "tokens.txt:3: unknown key 'colour' (use workflows=, pools= or name=)",
          'tokens.txt:4: the same token as line 1: give a token one line',
          "tokens.txt:5: workflows: 'Email/*' is not a workflow name or pattern (letters, digits, '.', '-', '*')",
        ].join('\n'),
      )
      return true
    },
  )
  // The format before scopes still reads: bare tokens, full privilege, comma-separated or one per line.
  const legacy = parseTokensFile('# ops\nfirst-token,second-token\nthird-token\n', 'old.txt')
  assert.deepEqual(
    legacy.map((entry) => entry.grant.roles),
    [['admin'], ['admin'], ['admin']],
  )
  assert.throws(() => parseTokensFile('# nothing\n', 'empty.txt'), /empty.txt holds no token/)
})

void test('cancel: a token cancels only runs of workflows it may run; a refused cancel leaves the run queued', async () => {
  const { runId } = seeded['held.wait']!
  const cancel = (headers: Record<string, string>) => post(`${fx.url}/v1/runs/${runId}/cancel`, {}, headers)
  assertForbidden(await cancel(READER), /lacks the 'run' role/)
  assertForbidden(await cancel(QUIET), /may not run workflow 'held.wait': its scope does not cover/)
  assertForbidden(await cancel(RUNNER), /may not run workflow 'held.wait'/)
  assert.equal(((await get(`${fx.url}/v1/runs/${runId}`, FULL)).body as { status: string }).status, 'queued')
  assert.equal((await post(`${fx.url}/v1/runs/unknown-run/cancel`, {}, RUNNER)).status, 404)
})
