// Issue 13.1 through a real gateway: Redis (AOF everysec) is killed with SIGKILL and
// restarted on its own data. While it is down, a run request is answered 503 with
// Retry-After — never 202 for a run that is not queued. After the restart, a run
// accepted before the crash is still there and finishes, and a client retrying with its
// Idempotency-Key gets a run that exists and runs (its key is not held by a phantom).
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { eventually } from '../helpers/eventually.js'
import { redisSkip, startRedis } from '../helpers/redis.js'
import { get, post, startFixture } from './fixture.js'

const skip = redisSkip()
const AOF = ['--appendonly', 'yes', '--appendfsync', 'everysec']

void test(
  'Redis killed and restarted: 503 + Retry-After while down, no 202 for a run that is not queued, nothing lost',
  { skip },
  async () => {
    let redis = await startRedis(AOF)
    const place = { dir: redis.dir, port: redis.port }
    const fx = await startFixture({}, redis.url)
    const run = `${fx.url}/v1/workflows/echo.say/run`
    try {
      const before = await post(run, { text: 'before' }, { prefer: 'respond-async', 'idempotency-key': 'k-before' })
      assert.equal(before.status, 202)
      const beforeId = before.headers.get('x-switchyard-run-id') ?? ''
      // The run finished before the crash: it must survive it.
      await eventually(
        'the first run to finish',
        async () => ((await get(`${fx.url}/v1/runs/${beforeId}`)).body as { status?: string }).status === 'succeeded',
      )

      await redis.kill()
      const during = await post(run, { text: 'during' }, { prefer: 'respond-async', 'idempotency-key': 'k-during' })
      assert.equal(during.status, 503, JSON.stringify(during.body))
      assert.equal((during.body as { code: string }).code, 'BROKER_UNAVAILABLE')
      assert.ok(Number(during.headers.get('retry-after')) >= 1, `Retry-After: ${during.headers.get('retry-after')}`)
      const unkeyed = await post(run, { text: 'during, no key' }, { prefer: 'respond-async' })
      assert.equal(unkeyed.status, 503)
      const waiting = await post(run, { text: 'during, waiting' })
      assert.equal(waiting.status, 503)
      const read = await get(`${fx.url}/v1/runs/${beforeId}`)
      assert.equal(read.status, 503)

      redis = await startRedis(AOF, place)
      // The client retries with its key, as Retry-After asked, until the gateway takes it.
      const retried = await eventually(
        'the gateway to accept the retried run',
        async () => {
          const answer = await post(run, { text: 'during' }, { prefer: 'respond-async', 'idempotency-key': 'k-during' })
          assert.ok(answer.status === 202 || answer.status === 503, `unexpected ${answer.status}: ${JSON.stringify(answer.body)}`)
          return answer.status === 202 ? answer : false
        },
        30_000,
      )
      const duringId = retried.headers.get('x-switchyard-run-id') ?? ''
      await eventually(
        'the retried run to finish',
        async () => ((await get(`${fx.url}/v1/runs/${duringId}`)).body as { status?: string }).status === 'succeeded',
      )
      // The run accepted before the crash is still known, with its output, and its key still names it.
      const after = await get(`${fx.url}/v1/runs/${beforeId}`)
      assert.equal(after.status, 200)
      assert.deepEqual((after.body as { output: unknown }).output, { said: 'before' })
      const again = await post(run, { text: 'before' }, { prefer: 'respond-async', 'idempotency-key': 'k-before' })
      assert.equal(again.headers.get('x-switchyard-run-id'), beforeId)
    } finally {
      await fx.close()
      await redis.stop()
    }
  },
)
