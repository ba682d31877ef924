// The broker contract on real Redis (a private redis-server per test file), plus
// what only the Redis broker has: the eviction-policy check and its own traps.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, test } from 'node:test'

import { Queue } from 'bullmq'

import { RedisBroker } from '../../src/data/redis-broker.js'
import { redisRunSource } from '../../src/data/redis-run-source.js'
import { redisSkip, startRedis, type RedisServer } from '../helpers/redis.js'
import { brokerContract, contractRegistry } from './broker.contract.js'

const skip = redisSkip()
let redis: RedisServer | undefined

before(async () => {
  if (!skip) redis = await startRedis()
})
after(async () => {
  await redis?.stop()
})

function server(): RedisServer {
  assert.ok(redis, 'redis-server did not start')
  return redis
}

if (skip) {
  void test('broker contract: redis', { skip }, () => undefined)
} else {
  brokerContract('redis', async () => {
    const { url } = server()
    const prefix = `t-${randomUUID().slice(0, 8)}`
    const registry = contractRegistry()
    const broker = await RedisBroker.connect({ registry, url, prefix, backoffMs: 10, pollMs: 500 })
    return {
      broker,
      registry,
      source: (pool: string) => redisRunSource(pool, { url, prefix }),
      close: () => broker.close(),
    }
  })
}

void describe('redis broker: server checks', { skip }, () => {
  void test('refuses to start when Redis may evict keys, or warns when told to', async () => {
    const { url } = server()
    // BullMQ's client forwards commands it does not declare (CONFIG) to ioredis.
    const admin = new Queue('admin', { connection: { url } })
    const client = (await admin.client) as unknown as { config(...args: string[]): Promise<unknown> }
    await client.config('SET', 'maxmemory-policy', 'allkeys-lru')
    try {
      await assert.rejects(RedisBroker.connect({ registry: contractRegistry(), url, prefix: 'x' }), (error: Error & { code?: string }) => {
        assert.equal(error.code, 'BROKER_UNAVAILABLE')
        assert.match(error.message, /runs with maxmemory-policy=allkeys-lru: Redis may evict queued runs under memory pressure/)
        assert.match(error.message, /refusing to start; pass evictionCheck: 'warn' to run anyway/)
        return true
      })
      const warnings: string[] = []
      const lenient = await RedisBroker.connect({
        registry: contractRegistry(),
        url,
        prefix: 'x',
        evictionCheck: 'warn',
        warn: (message) => warnings.push(message),
      })
      await lenient.close()
      assert.equal(warnings.length, 1)
      assert.match(warnings[0] ?? '', /^WARNING: Redis at redis:\/\/127\.0\.0\.1:\d+\/? runs with maxmemory-policy=allkeys-lru/)
    } finally {
      await client.config('SET', 'maxmemory-policy', 'noeviction')
      await admin.close()
    }
  })

  void test('an unreachable Redis fails connect() with BROKER_UNAVAILABLE within the bound', async () => {
    await assert.rejects(
      RedisBroker.connect({ registry: contractRegistry(), url: 'redis://127.0.0.1:1', commandTimeoutMs: 300, warn: () => undefined }),
      (error: Error & { code?: string }) => {
        assert.equal(error.code, 'BROKER_UNAVAILABLE')
        assert.match(error.message, /Redis at redis:\/\/127\.0\.0\.1:1\/? did not answer within 300 ms/)
        return true
      },
    )
  })
})
