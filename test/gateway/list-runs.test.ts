// GET /v1/runs: every run the broker holds — untraced, queued and dead-lettered ones
// included — newest first, filtered by pool, workflow, status and limit; behind auth.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { RunView } from '../../src/control/index.js'
import { get, post, startFixture, type Fixture } from './fixture.js'

const AUTH = { authorization: 'Bearer list-token' }
let fx: Fixture
const ids: Record<string, string> = {}

before(async () => {
  fx = await startFixture({ tokens: ['list-token'] })
  for (const [name, path, headers] of [
    ['said', 'echo.say', {}],
    ['failed', 'echo.fail', {}],
    ['untraced', 'quiet.say', {}],
    ['queued', 'held.wait', { prefer: 'respond-async' }],
  ] as const) {
    const res = await post(`${fx.url}/v1/workflows/${path}/run`, name === 'said' ? { text: 'hi' } : {}, { ...AUTH, ...headers })
    ids[name] = res.headers.get('x-switchyard-run-id') ?? ''
  }
})
after(() => fx.close())

async function runs(query: string): Promise<RunView[]> {
  const res = await get(`${fx.url}/v1/runs${query}`, AUTH)
  assert.equal(res.status, 200, JSON.stringify(res.body))
  return (res.body as { runs: RunView[] }).runs
}

void test('GET /v1/runs lists every run newest first, untraced and queued ones too', async () => {
  const all = await runs('')
  assert.deepEqual(
    all.map((r) => [r.runId, r.workflow, r.status]),
    [
      [ids.queued, 'held.wait', 'queued'],
      [ids.untraced, 'quiet.say', 'succeeded'],
      [ids.failed, 'echo.fail', 'failed'],
      [ids.said, 'echo.say', 'succeeded'],
    ],
  )
  const failed = all.find((r) => r.runId === ids.failed)
  assert.equal(failed?.deadLettered, true)
  assert.deepEqual(failed?.error, { code: 'GRAPH_FAILED', message: 'the lead has no e-mail address', retryable: true })
  // Lists carry no outputs (a page could otherwise hold 1,000 outputs of up to maxOutput each); the run itself has it.
  for (const listed of all) assert.equal('output' in listed, false, listed.runId)
  const said = await get(`${fx.url}/v1/runs/${ids.said}`, AUTH)
  assert.deepEqual((said.body as RunView).output, { said: 'hi' })
})

void test('GET /v1/runs filters by pool, workflow, status and limit', async () => {
  assert.deepEqual(
    (await runs('?status=queued')).map((r) => r.runId),
    [ids.queued],
  )
  assert.deepEqual(
    (await runs('?pool=quiet')).map((r) => r.runId),
    [ids.untraced],
  )
  assert.deepEqual(
    (await runs('?workflow=echo.fail&status=failed')).map((r) => r.runId),
    [ids.failed],
  )
  assert.deepEqual(
    (await runs('?pool=email&limit=1')).map((r) => r.runId),
    [ids.failed],
  )
})

void test('GET /v1/runs: bad filters are named; no token is 401', async () => {
  const detail = async (query: string, headers: Record<string, string> = AUTH) => {
    const res = await get(`${fx.url}/v1/runs${query}`, headers)
    return [res.status, (res.body as { detail: string }).detail]
  }
  assert.deepEqual(await detail('?status=done'), [400, "unknown status 'done': use queued, running, succeeded, failed, cancelled"])
  assert.deepEqual(await detail('?limit=0'), [400, "limit must be a whole number from 1 to 1000, not '0'"])
  assert.deepEqual(await detail('?workflow=echo.sai'), [404, "unknown workflow 'echo.sai'. Did you mean 'echo.say' or 'echo.fail'?"])
  assert.deepEqual(await detail('?pool=emial'), [404, "unknown pool 'emial'. Did you mean 'email'?"])
  assert.deepEqual(await detail('', {}), [401, 'missing bearer token: send Authorization: Bearer <token>'])
})
