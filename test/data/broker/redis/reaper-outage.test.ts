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

import { Queue, type RedisClient } from 'bullmq'

import { queueName } from '../../../../src/control/index.js'
import { commands } from '../../../../src/data/broker/redis/commands.js'
import { connectionFor } from '../../../../src/data/broker/redis/connection.js'
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
    // The test's own connection (BullMQ's client, as the platform's): B's beats and what is read back.
    const connect = async (url: string): Promise<{ queue: Queue; client: RedisClient }> => {
      const queue = new Queue(queueName('work'), { connection: connectionFor(url), prefix: 'reapout-admin' })
      queue.on('error', () => undefined)
      return { queue, client: await queue.client }
    }
    let own = await connect(redis.url)
    let admin = own.client
    // B beats as a worker does (score: the time + the TTL, on Redis's clock: it runs here) and holds a run.
    const beatB = () => commands(admin).zadd(keys.workers, Date.now() + HEARTBEAT.ttlMs, 'B')
    await beatB()
    await commands(admin).hset(keys.leases('B'), 'run-of-b', 'lock-token-of-b')
    const beating = setInterval(() => void beatB().catch(() => undefined), HEARTBEAT.beatMs)
    try {
      await a.visible?.()
      await sleep(HEARTBEAT.armMs + 1000) // A's reaper is armed, and B is alive
      assert.equal(await commands(admin).exists(keys.leases('B')), 1)

      clearInterval(beating)
      await own.queue.disconnect()
      process.kill(redis.pid, 'SIGSTOP') // the reaper's next pass goes out and is not answered
      await sleep(HEARTBEAT.reapMs * 3)
      await redis.kill()
      await sleep(3000) // longer than B's heartbeat TTL
      redis = await startRedis(AOF, place)
      own = await connect(redis.url)
      admin = own.client

      // Well within the reaper's arming after its reconnect: nothing may be reaped yet.
      await sleep(Math.min(3000, HEARTBEAT.armMs - 1000))
      assert.equal(await commands(admin).exists(keys.leases('B')), 1, "B's lease was taken before B could beat again")
      assert.notEqual(
        (await commands(admin).zmscore(keys.workers, 'B'))[0] ?? null,
        null,
        'B was claimed as dead before it could beat again',
      )
    } finally {
      clearInterval(beating)
      await own.queue.close()
      await a.close()
      await redis.stop()
      rmSync(place.dir, { recursive: true, force: true })
    }
  },
)
