// A node worker's reaper across a Redis outage: a pass in flight when Redis dies must not be
// sent again once Redis is back. Then every worker's heartbeat reads expired (none could beat
// while Redis was away), and the pass would hand on the runs of live workers before they beat
// again: each run twice. The reaper is re-armed (HEARTBEAT.armMs) only for passes that start
// after the reconnect, so its connection must not resend (redis-run-source.ts `reapQueue`).
//
// On a real redis-server: worker A is a real run source (its reaper armed); worker B beats
// and holds a lease until Redis freezes (SIGSTOP), so the reaper's next pass goes out and
// gets no answer; then Redis is killed and restarted on its own data. B, as a live worker
// whose heartbeat thread has not reconnected yet, has not beaten again.
import assert from 'node:assert/strict'
import { rmSync } from 'node:fs'
import { test } from 'node:test'

import { Redis } from 'ioredis'

import { queueName } from '../../../../src/control/index.js'
import { redisRunSource } from '../../../../src/data/broker/redis/index.js'
import { HEARTBEAT } from '../../../../src/data/broker/redis/heartbeat.js'
import { poolKeys } from '../../../../src/data/broker/redis/keys.js'
import { redisSkip, startRedis, type RedisServer } from '../../../helpers/redis.js'

const skip = redisSkip()
const AOF = ['--appendonly', 'yes', '--appendfsync', 'always']
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

void test(
  'a reaper pass in flight when Redis dies is not sent again: a live worker is not reaped after the restart',
  { skip, timeout: 60_000 },
  async () => {
    let redis: RedisServer = await startRedis(AOF)
    const place = { dir: redis.dir, port: redis.port }
    const prefix = 'reapout'
    const keys = poolKeys(prefix, queueName('work'))
    const a = redisRunSource('work', { url: redis.url, prefix, warn: () => undefined })
    a.start(async () => ({ ok: true, output: null }), { concurrency: 1 })
    let admin = new Redis(redis.url)
    // B beats as a worker does (score: Redis's time + the TTL) and holds a run.
    const beatB = () =>
      admin.eval(
        "local t = redis.call('TIME') redis.call('ZADD', KEYS[1], t[1] * 1000 + math.floor(t[2] / 1000) + ARGV[1], 'B')",
        1,
        keys.workers,
        HEARTBEAT.ttlMs,
      )
    await beatB()
    await admin.hset(keys.leases('B'), 'run-of-b', 'lock-token-of-b')
    const beating = setInterval(() => void beatB().catch(() => undefined), HEARTBEAT.beatMs)
    try {
      await a.visible?.()
      await sleep(HEARTBEAT.armMs + 1000) // A's reaper is armed, and B is alive
      assert.equal(await admin.exists(keys.leases('B')), 1)

      clearInterval(beating)
      admin.disconnect()
      process.kill(redis.pid, 'SIGSTOP') // the reaper's next pass goes out and is not answered
      await sleep(HEARTBEAT.reapMs * 3)
      await redis.kill()
      await sleep(3000) // longer than B's heartbeat TTL
      redis = await startRedis(AOF, place)
      admin = new Redis(redis.url)

      // Well within the reaper's arming after its reconnect: nothing may be reaped yet.
      await sleep(Math.min(3000, HEARTBEAT.armMs - 1000))
      assert.equal(await admin.exists(keys.leases('B')), 1, "B's lease was taken before B could beat again")
      assert.notEqual(await admin.zscore(keys.workers, 'B'), null, 'B was claimed as dead before it could beat again')
    } finally {
      clearInterval(beating)
      admin.disconnect()
      await a.close()
      await redis.stop()
      rmSync(place.dir, { recursive: true, force: true })
    }
  },
)
