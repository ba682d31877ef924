// GET /v1/pools: each pool's settings, its live counts from the broker, and how its recent
// runs went (rates and p50/p95 over the window), on a real gateway, broker and workers.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { PoolList } from '../../src/control/index.js'
import { summarize } from '../../src/gateway/handlers/pools.js'
import type { RunRecord } from '../../src/data/broker/index.js'
import { get, post, startFixture, type Fixture } from './fixture.js'

let fx: Fixture
before(async () => {
  fx = await startFixture()
})
after(() => fx.close())

void test('pools with their settings, workers, and the outcome of their recent runs', async () => {
  for (let i = 0; i < 3; i++) assert.equal((await post(`${fx.url}/v1/workflows/echo.say/run`, { text: `hi ${i}` })).status, 200)
  assert.equal((await post(`${fx.url}/v1/workflows/echo.fail/run`, {})).status, 502)
  const res = await get(`${fx.url}/v1/pools`)
  assert.equal(res.status, 200)
  const body = res.body as PoolList
  assert.equal(body.registry, fx.registry.digest)
  assert.equal(body.windowMinutes, 5)
  assert.deepEqual(
    body.pools.map((p) => p.name),
    [...fx.registry.pools.keys()],
  )
  const email = body.pools.find((p) => p.name === 'email')
  assert.ok(email)
  assert.deepEqual(
    [email.runtime, email.project, email.sampleRate, email.capture, email.workers, email.inFlight, email.queued],
    ['node', 'sales-email', 1, 'full', 1, 0, 0],
  )
  assert.deepEqual([email.recent.finished, email.recent.succeeded, email.recent.failed], [4, 3, 1])
  assert.equal(email.recent.successRate, 0.75)
  assert.equal(email.recent.failureRate, 0.25)
  assert.ok(typeof email.recent.p50Ms === 'number' && typeof email.recent.p95Ms === 'number' && email.recent.p95Ms >= email.recent.p50Ms)
  const held = body.pools.find((p) => p.name === 'held')
  assert.deepEqual([held?.workers, held?.recent.finished, held?.recent.successRate, held?.recent.p50Ms], [0, 0, null, null])
  assert.equal(body.pools.find((p) => p.name === 'quiet')?.sampleRate, 0)
})

void test('rates and nearest-rank percentiles count only runs finished inside the window', () => {
  const now = 1_000_000
  const run = (status: RunRecord['status'], durationMs: number, finishedAgoMs: number): RunRecord => ({
    runId: `${status}-${durationMs}`,
    workflow: 'w',
    pool: 'p',
    status,
    attempts: 1,
    maxAttempts: 1,
    createdAt: now - finishedAgoMs - durationMs,
    startedAt: now - finishedAgoMs - durationMs,
    finishedAt: now - finishedAgoMs,
    deadline: '',
    traceId: null,
    idempotencyKey: null,
    owner: null,
  })
  const durations = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150, 160, 170, 180, 190, 1000]
  const records = [
    ...durations.map((d, i) => run(i % 5 === 0 ? 'failed' : 'succeeded', d, 1000)),
    run('succeeded', 5, 10 * 60_000), // finished before the window: not counted
    { ...run('running', 0, 0), finishedAt: undefined },
  ]
  const recent = summarize(records, now - 5 * 60_000)
  assert.deepEqual([recent.finished, recent.succeeded, recent.failed, recent.cancelled], [20, 16, 4, 0])
  assert.equal(recent.successRate, 0.8)
  assert.equal(recent.p50Ms, 100)
  assert.equal(recent.p95Ms, 190)
})
