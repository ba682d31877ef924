// The same gateway on the RedisBroker (BullMQ) with a worker on the pool's queue:
// the request path and its error statuses do not depend on the broker.
import assert from 'node:assert/strict'
import type { EventEmitter } from 'node:events'
import { randomUUID } from 'node:crypto'
import { after, before, test } from 'node:test'

import { Queue } from 'bullmq'

import { redisSkip, startRedis, type RedisServer } from '../helpers/redis.js'
import type { RunView } from '../../src/control/index.js'
import { get, post, startFixture, type Fixture } from './fixture.js'

const skip = redisSkip()
let redis: RedisServer | undefined
let fx: Fixture | undefined
before(async () => {
  if (skip) return
  redis = await startRedis()
  fx = await startFixture({}, redis.url)
})
after(async () => {
  await fx?.close()
  await redis?.stop()
})

const url = (path: string) => `${fx?.url}${path}`

void test('redis: 200 flat output, 202 + GET /v1/runs/{id}, 502 with the graph code', { skip }, async () => {
  const ok = await post(url('/v1/workflows/echo.say/run'), { text: 'on redis' })
  assert.equal(ok.status, 200)
  assert.deepEqual(ok.body, { said: 'on redis' })
  assert.match(ok.headers.get('x-switchyard-trace-id') ?? '', /^[0-9a-f]{32}$/)

  const accepted = await post(url('/v1/workflows/echo.say/run'), { text: 'later' }, { prefer: 'respond-async' })
  assert.equal(accepted.status, 202)
  const runId = accepted.headers.get('x-switchyard-run-id') ?? ''
  await fx?.broker.wait(runId, { until: Date.now() + 10_000 })
  const view = await get(url(`/v1/runs/${runId}`))
  assert.equal((view.body as { status: string }).status, 'succeeded')
  assert.deepEqual((view.body as { output: unknown }).output, { said: 'later' })

  const failed = await post(url('/v1/workflows/echo.fail/run'), {})
  assert.equal(failed.status, 502)
  assert.equal((failed.body as { code: string }).code, 'GRAPH_FAILED')
})

void test('redis: Idempotency-Key dedupes and conflicts; a full queue is 429 with Retry-After', { skip }, async () => {
  const first = await post(url('/v1/workflows/echo.say/run'), { text: 'once' }, { 'idempotency-key': 'r-1' })
  const again = await post(url('/v1/workflows/echo.say/run'), { text: 'once' }, { 'idempotency-key': 'r-1' })
  assert.equal(again.headers.get('x-switchyard-run-id'), first.headers.get('x-switchyard-run-id'))
  const conflict = await post(url('/v1/workflows/echo.say/run'), { text: 'other' }, { 'idempotency-key': 'r-1' })
  assert.equal(conflict.status, 409)
  assert.equal((conflict.body as { code: string }).code, 'IDEMPOTENCY_CONFLICT')

  const queued = await post(url('/v1/workflows/held.wait/run'), {}, { prefer: 'respond-async' })
  assert.equal(queued.status, 202)
  const saturated = await post(url('/v1/workflows/held.wait/run'), {}, { prefer: 'respond-async' })
  assert.equal(saturated.status, 429)
  assert.ok(Number(saturated.headers.get('retry-after')) >= 1)
  assert.equal((saturated.body as { code: string }).code, 'POOL_SATURATED')
  assert.equal((saturated.body as { pool: string }).pool, 'held')
})

void test('redis: a flood of keyless runs at a full pool is shed without a span; a keyed retry still finds its run', { skip }, async () => {
  // The earlier test filled `held` (maxQueued 1, no worker) with a keyless run; this key's run may take its place if it is gone.
  const keyed = await post(url('/v1/workflows/held.wait/run'), { n: 1 }, { prefer: 'respond-async', 'idempotency-key': 'h-1' })
  const keyedRun = keyed.headers.get('x-switchyard-run-id')
  // Asked of Redis: 429 with the request's trace id. Right after, the pool is known full: shed, no span, same answer.
  let shed: Awaited<ReturnType<typeof post>> | undefined
  for (let i = 0; i < 20 && shed === undefined; i++) {
    const refused = await post(url('/v1/workflows/held.wait/run'), {}, { prefer: 'respond-async' })
    assert.equal(refused.status, 429)
    assert.equal((refused.body as { code: string }).code, 'POOL_SATURATED')
    assert.ok(Number(refused.headers.get('retry-after')) >= 1)
    if (refused.headers.get('x-switchyard-trace-id') === null) shed = refused
  }
  assert.ok(shed, 'no refusal was shed from the broker’s hint in 20 back-to-back requests')
  assert.equal(shed.headers.get('server-timing'), null)
  assert.equal((shed.body as { pool: string }).pool, 'held')
  // A keyed submission always asks the broker: its run (if it got one) is found, not refused from the hint.
  const again = await post(url('/v1/workflows/held.wait/run'), { n: 1 }, { prefer: 'respond-async', 'idempotency-key': 'h-1' })
  assert.equal(again.status, keyed.status)
  assert.equal(again.headers.get('x-switchyard-run-id'), keyedRun)
  assert.ok(again.headers.get('x-switchyard-trace-id'))
})

void test('redis: a run for a pool with no live worker is 503 POOL_UNAVAILABLE at once, not a 504 at its deadline', { skip }, async () => {
  const started = Date.now()
  const refused = await post(url('/v1/workflows/held.wait/run'), { prompt: 1 })
  assert.equal(refused.status, 503)
  assert.equal((refused.body as { code: string }).code, 'POOL_UNAVAILABLE')
  assert.equal(refused.headers.get('retry-after'), '1')
  // The pool's timeout is 1 s: an answer well before it is not the deadline's.
  assert.ok(Date.now() - started < 900, `answered after ${Date.now() - started} ms`)
})

void test('redis: a run id no run can have is 404 UNKNOWN_RUN, not a broker error', { skip }, async () => {
  for (const id of ['has:colon', 'x'.repeat(200), 'no-such-run']) {
    const res = await get(url(`/v1/runs/${encodeURIComponent(id)}`))
    assert.equal(res.status, 404, id)
    assert.equal((res.body as { code: string }).code, 'UNKNOWN_RUN')
  }
})

void test(
  "redis: an id that names one of a pool's keys (`wait`, `events`, …) is answered as an unknown run, never with Redis's words",
  { skip },
  async () => {
    // The earlier tests left a queued run in `held` (its `wait` list) and events and meta in every pool's keys.
    const ids = ['wait', 'events', 'meta', 'id', 'sy-deadlines', 'sy-admitting', 'sy-workers', 'paused', 'completed']
    const unknown = { get: await get(url('/v1/runs/no-such-run')), cancel: await post(url('/v1/runs/no-such-run/cancel'), '') }
    // Every command the server runs, to see that no lookup of these ids reaches it (a run's lookup
    // probes its record's key, `…:sy-cancelled:<id>`, in every pool).
    const admin = new Queue('monitor', { connection: { url: redis?.url ?? '' } })
    type Monitor = EventEmitter & { disconnect(): void }
    const monitor = await ((await admin.client) as unknown as { monitor(): Promise<Monitor> }).monitor()
    const lookups: string[] = []
    monitor.on('monitor', (_time: string, args: string[]) => {
      if (args.some((arg) => ids.some((id) => arg.endsWith(`:sy-cancelled:${id}`)))) lookups.push(args.join(' '))
    })
    for (const id of ids) {
      const answers = { get: await get(url(`/v1/runs/${id}`)), cancel: await post(url(`/v1/runs/${id}/cancel`), '') }
      for (const how of ['get', 'cancel'] as const) {
        const res = answers[how]
        assert.equal(res.status, 404, `${how} ${id}: ${JSON.stringify(res.body)}`)
        assert.equal(res.headers.get('retry-after'), null)
        assert.doesNotMatch(JSON.stringify(res.body), /WRONGTYPE|ERR |NOPERM/)
        // The same answer as an id that names nothing.
        assert.deepEqual(res.body, JSON.parse(JSON.stringify(unknown[how].body).replaceAll('no-such-run', id)), `${how} ${id}`)
      }
    }
    // The gateway issues UUIDs only: none of these was looked up.
    await new Promise((resolve) => setTimeout(resolve, 300))
    monitor.disconnect()
    await admin.close()
    assert.deepEqual(lookups, [])
  },
)

void test(
  'redis: GET /v1/runs lists a job a pool planted in its own queue (2 MB, created at 9e15) last, naming what it left out',
  { skip },
  async () => {
    // What the pool's own Redis user may write (test/data/broker/redis/list-cost.test.ts plants it under that user).
    const prefix = (fx?.broker as unknown as { prefix: string }).prefix
    const queue = new Queue('switchyard.held', { connection: { url: redis?.url ?? '' }, prefix })
    try {
      const input = 'x'.repeat(2 * 1024 * 1024)
      await queue.add('held.wait', { workflow: 'held.wait', input }, { jobId: 'planted-view', timestamp: 9e15 })
      const res = await get(url('/v1/runs?limit=1000'))
      assert.equal(res.status, 200, JSON.stringify(res.body))
      const runs = (res.body as { runs: RunView[] }).runs
      const planted = runs.at(-1)
      assert.ok(runs.length > 1)
      assert.equal(planted?.runId, 'planted-view')
      assert.equal(planted.createdAt, '1970-01-01T00:00:00.000Z')
      assert.deepEqual([planted.workflow, planted.status, planted.deadline, planted.traceId], ['held.wait', 'queued', '', null])
      assert.deepEqual(planted.omitted, ['input', 'deadline', 'traceId', 'idempotencyKey', 'registry', 'createdAt'])
      for (const run of runs.slice(0, -1)) assert.equal(run.omitted, undefined, run.runId)
    } finally {
      await queue.remove('planted-view')
      await queue.close()
    }
  },
)

void test(
  'redis: GET /v1/runs/{id} of a job a pool planted with a time no date can hold answers 200, the time named in omitted',
  { skip },
  async () => {
    const prefix = (fx?.broker as unknown as { prefix: string }).prefix
    const queue = new Queue('switchyard.held', { connection: { url: redis?.url ?? '' }, prefix })
    const runId = randomUUID()
    try {
      // Past year 275760: new Date(9e15).toISOString() throws (a 500 before).
      await queue.add('held.wait', { workflow: 'held.wait', input: {} }, { jobId: runId, timestamp: 9e15 })
      const res = await get(url(`/v1/runs/${runId}`))
      assert.equal(res.status, 200, JSON.stringify(res.body))
      const view = res.body as RunView
      assert.deepEqual(
        [view.runId, view.status, view.createdAt, view.omitted],
        [runId, 'queued', '1970-01-01T00:00:00.000Z', ['createdAt']],
      )
    } finally {
      await queue.remove(runId)
      await queue.close()
    }
  },
)
