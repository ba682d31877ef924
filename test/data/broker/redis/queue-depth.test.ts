// A Redis worker's queue depth, read at each /metrics scrape (queue-depth.ts): the pool's
// waiting runs, and, while Redis is away, an answer at once (a refusal: the scrape keeps its
// last figure) instead of a read that waits for Redis and leaves one more behind it per scrape.
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { Queue } from 'bullmq'

import { queueName } from '../../../../src/control/index.js'
import { connectionFor } from '../../../../src/data/broker/redis/connection.js'
import { redisQueueDepth } from '../../../../src/data/broker/redis/queue-depth.js'
import { redisSkip, startRedis } from '../../../helpers/redis.js'

const skip = redisSkip()

/** The promise's outcome, or 'pending' if it has none within `ms`. */
async function settledWithin<T>(promise: Promise<T>, ms: number): Promise<{ value: T } | { error: Error } | 'pending'> {
  let timer: NodeJS.Timeout | undefined
  const pending = new Promise<'pending'>((resolve) => (timer = setTimeout(resolve, ms, 'pending')))
  try {
    return await Promise.race([
      promise.then(
        (value) => ({ value }),
        (error: Error) => ({ error }),
      ),
      pending,
    ])
  } finally {
    clearTimeout(timer)
  }
}

void test('the queue depth is the waiting runs, and while Redis is away a read is refused at once', { skip, timeout: 60_000 }, async () => {
  const redis = await startRedis()
  const queue = new Queue(queueName('work'), { connection: connectionFor(redis.url), prefix: 'depth' })
  const depth = redisQueueDepth('work', redis.url, 'depth')
  try {
    await queue.add('w', {}, { jobId: 'one' })
    await queue.add('w', {}, { jobId: 'two' })
    assert.equal(await depth.read(), 2)
    await queue.close()

    await redis.kill()
    for (let scrape = 0; scrape < 3; scrape++) {
      const read = await settledWithin(depth.read(), 5000)
      assert.notEqual(read, 'pending', 'a read during the outage waited for Redis')
      assert.ok(typeof read === 'object' && 'error' in read, `a read during the outage answered ${JSON.stringify(read)}`)
    }
    assert.notEqual(await settledWithin(depth.close(), 5000), 'pending', 'close() during the outage waited for Redis')
  } finally {
    await redis.stop()
  }
})
