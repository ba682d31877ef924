// POST /v1/runs/{id}/cancel on both brokers, through a real gateway: a running run's
// graph sees its abort signal (CANCELLED) and the run ends cancelled; a queued run ends
// cancelled at once; cancel is idempotent; 404 for an unknown run, 409 for a finished
// one; behind the gateway's auth like every run route.
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'

import { eventually } from '../helpers/eventually.js'
import { redisSkip, startRedis, type RedisServer } from '../helpers/redis.js'
import { get, post, startFixture, type Fixture } from './fixture.js'

const redisSkipped = redisSkip()

for (const kind of ['memory', 'redis'] as const) {
  void describe(`cancel on the ${kind} broker`, { skip: kind === 'redis' ? redisSkipped : false }, () => {
    let redis: RedisServer | undefined
    let fx: Fixture
    let dir: string
    before(async () => {
      if (kind === 'redis') redis = await startRedis()
      fx = await startFixture({}, redis?.url)
      dir = mkdtempSync(join(tmpdir(), 'switchyard-cancel-'))
    })
    after(async () => {
      await fx.close()
      await redis?.stop()
      rmSync(dir, { recursive: true, force: true })
    })
    const cancel = (runId: string, headers: Record<string, string> = {}) =>
      post(`${fx.url}/v1/runs/${encodeURIComponent(runId)}/cancel`, '', headers)

    void test('a running run: its graph sees CANCELLED on its signal, the waiting caller gets 502 CANCELLED, the run ends cancelled', async () => {
      const file = join(dir, `${kind}-running.json`)
      const waiting = post(`${fx.url}/v1/workflows/echo.watch/run`, { file })
      // The graph itself has started (its module loaded): cancel reaches a running graph.
      await eventually('the graph to start', () => existsSync(`${file}.started`))
      const [running] = await fx.broker.list({ workflow: 'echo.watch', status: 'running' })
      const runId = running?.runId ?? ''
      const cancelled = await cancel(runId)
      const view = cancelled.body as { runId: string; status: string; error?: { code: string; message: string } }
      // 200 once the worker stopped it (milliseconds, usually); 202 + Location while it has not yet.
      assert.equal(cancelled.status, view.status === 'cancelled' ? 200 : 202, JSON.stringify(view))
      assert.equal(view.runId, runId)
      assert.equal(cancelled.headers.get('x-switchyard-run-id'), runId)
      const ended = await fx.broker.wait(runId, { until: Date.now() + 20_000 })
      assert.equal(ended.status, 'cancelled')
      assert.equal(ended.error?.code, 'CANCELLED')
      const seen = JSON.parse(readFileSync(file, 'utf8')) as { code: string; retryable: boolean; message: string }
      assert.deepEqual([seen.code, seen.retryable], ['CANCELLED', false])
      assert.match(seen.message, new RegExp(`^run ${runId} was cancelled while running`))
      const caller = await waiting
      assert.equal(caller.status, 502)
      assert.equal((caller.body as { code: string }).code, 'CANCELLED')
      assert.equal(((await get(`${fx.url}/v1/runs/${runId}`)).body as { status: string }).status, 'cancelled')
      // Idempotent.
      const again = await cancel(runId)
      assert.equal(again.status, 200)
      assert.equal((again.body as { status: string }).status, 'cancelled')
    })

    void test('a queued run ends cancelled at once and never runs', async () => {
      const queued = await post(`${fx.url}/v1/workflows/held.wait/run`, { n: 1 }, { prefer: 'respond-async' })
      assert.equal(queued.status, 202)
      const runId = queued.headers.get('x-switchyard-run-id') ?? ''
      const cancelled = await cancel(runId)
      assert.equal(cancelled.status, 200)
      assert.equal((cancelled.body as { status: string }).status, 'cancelled')
      assert.match((cancelled.body as { error: { message: string } }).error.message, /cancelled while queued/)
      const listed = await get(`${fx.url}/v1/runs?status=cancelled&pool=held`)
      assert.deepEqual(
        (listed.body as { runs: Array<{ runId: string }> }).runs.map((r) => r.runId),
        [runId],
      )
    })

    void test('404 UNKNOWN_RUN for a run nobody knows; 409 RUN_FINISHED for a finished run', async () => {
      for (const id of ['no-such-run', 'has:colon']) {
        const unknown = await cancel(id)
        assert.equal(unknown.status, 404, id)
        assert.equal((unknown.body as { code: string }).code, 'UNKNOWN_RUN')
      }
      const done = await post(`${fx.url}/v1/workflows/echo.say/run`, { text: 'done' })
      assert.equal(done.status, 200)
      const runId = done.headers.get('x-switchyard-run-id') ?? ''
      const finished = await cancel(runId)
      assert.equal(finished.status, 409)
      const problem = finished.body as { code: string; runId: string; detail: string }
      assert.equal(problem.code, 'RUN_FINISHED')
      assert.equal(problem.runId, runId)
      assert.equal(problem.detail, `run ${runId} already succeeded: there is nothing to cancel`)
      assert.equal(((await get(`${fx.url}/v1/runs/${runId}`)).body as { status: string }).status, 'succeeded')
    })
  })
}

void test('cancel is behind the gateway auth: 401 without a token, and the run goes on', async () => {
  const fx = await startFixture({ tokens: ['cancel-token'] })
  try {
    const auth = { authorization: 'Bearer cancel-token' }
    const queued = await post(`${fx.url}/v1/workflows/held.wait/run`, {}, { prefer: 'respond-async', ...auth })
    const runId = queued.headers.get('x-switchyard-run-id') ?? ''
    const refused = await post(`${fx.url}/v1/runs/${runId}/cancel`, '')
    assert.equal(refused.status, 401)
    assert.equal((await fx.broker.get(runId))?.status, 'queued')
    const allowed = await post(`${fx.url}/v1/runs/${runId}/cancel`, '', auth)
    assert.equal(allowed.status, 200)
  } finally {
    await fx.close()
  }
})
