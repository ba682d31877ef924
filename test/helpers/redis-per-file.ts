// One private redis-server shared by every test in a file, registered with the
// file's before/after hooks. Kept apart from redis.ts so that bench scripts can
// import startRedis without pulling in node:test.
import assert from 'node:assert/strict'
import { after, before } from 'node:test'

import { redisSkip, startRedis, type RedisServer } from './redis.js'

/**
 * Start a redis-server before the file's tests (unless Redis is missing and the
 * tests skip) and stop it after them. Use as:
 * `const { skip, server } = redisPerFile()`, then `test('…', { skip }, …)` and `server().url`.
 */
export function redisPerFile(): { skip: string | false; server(): RedisServer } {
  const skip = redisSkip()
  let redis: RedisServer | undefined
  before(async () => {
    if (!skip) redis = await startRedis()
  })
  after(async () => {
    await redis?.stop()
  })
  return {
    skip,
    server() {
      assert.ok(redis, 'redis-server did not start')
      return redis
    },
  }
}
