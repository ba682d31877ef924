// The broker contract on real Redis (a private redis-server per test file), plus
// what only the Redis broker has: the eviction-policy check and its own traps.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { describe, test } from 'node:test'

import { Queue, Worker } from 'bullmq'

import type { Registry } from '../../../../src/control/index.js'
import { RedisBroker, redisRunSource } from '../../../../src/data/broker/redis/index.js'
import { createEnvelope } from '../../../../src/data/index.js'
import { poolLive } from '../../../helpers/pool-live.js'
import { startRedis } from '../../../helpers/redis.js'
import { redisPerFile } from '../../../helpers/redis-per-file.js'
import { brokerContract, contractRegistry } from '../broker.contract.js'
import { spawnRedisConsumer } from '../fixtures/child-consumer.js'

const { skip, server } = redisPerFile()

if (skip) {
  void test('broker contract: redis', { skip }, () => undefined)
} else {
  brokerContract('redis', async () => {
    const { url } = server()
    const prefix = `t-${randomUUID().slice(0, 8)}`
    const registry = contractRegistry()
    const broker = await RedisBroker.connect({ registry, url, prefix, backoffMs: 10, pollMs: 500, expire: true })
    return {
      broker,
      registry,
      expireNow: () => broker.expireNow(),
      source: (pool: string) => redisRunSource(pool, { url, prefix }),
      // A consumer's exit is reported as `switchyard start`'s supervisor reports its children's.
      spawnConsumer: (pool: string) => spawnRedisConsumer(url, prefix, pool, (pid, how) => broker.workerExited(pool, pid, how)),
      close: () => broker.close(),
    }
  })
}

void describe('redis broker: reading runs back', { skip }, () => {
  const registry = contractRegistry()
  const trace = { traceparent: '', tracestate: '', baggage: '' }
  function plan(input: unknown) {
    const pool = registry.pools.get('work')!
    return {
      workflow: 'contract.echo',
      pool: 'work',
      queue: 'switchyard.work',
      runtime: 'node' as const,
      graph: 'contract/graph.ts#graph',
      prompt: null,
      input,
      timeoutMs: 30_000,
      deadline: new Date(Date.now() + 30_000).toISOString(),
      retry: { maxAttempts: 2, backoff: { type: 'exponential' as const, delayMs: 10 } },
      tracing: pool.tracing,
      registry: registry.digest,
    }
  }

  void test('a run finished by another kind of worker (bare return value) still reads and waits right', async () => {
    const { url } = server()
    const prefix = `t-${randomUUID().slice(0, 8)}`
    const producer = await RedisBroker.connect({ registry, url, prefix })
    // A second broker that did not submit the run: it has to find and read it.
    const reader = await RedisBroker.connect({ registry, url, prefix })
    const foreign = new Worker('switchyard.work', async (job) => ({ bare: (job.data as { input: unknown }).input }), {
      connection: { url },
      prefix,
    })
    try {
      const env = createEnvelope(plan({ n: 1 }), { runId: `f-${randomUUID()}`, trace, idempotencyKey: null }, null)
      await producer.submit(env, { async: true })
      const waited = await producer.wait(env.runId, { until: Date.now() + 20_000 })
      assert.equal(waited.status, 'succeeded')
      assert.deepEqual(waited.output, { bare: { n: 1 } })
      assert.equal(waited.attempts, 1)
      assert.ok(waited.finishedAt !== undefined && waited.startedAt !== undefined)
      assert.deepEqual(await reader.wait(env.runId, { until: Date.now() + 20_000 }), waited)
      assert.deepEqual(await reader.get(env.runId), waited)
      assert.equal((await reader.list({ status: 'succeeded' }))[0]?.runId, env.runId)
    } finally {
      await foreign.close()
      await Promise.all([producer.close(), reader.close()])
    }
  })

  void test("a pool with its own Redis URL keeps its runs on that server, apart from the others'", async () => {
    const { url } = server()
    const other = await startRedis()
    const prefix = `t-${randomUUID().slice(0, 8)}`
    const pools = new Map([...registry.pools].map(([name, pool]) => [name, name === 'tight' ? { ...pool, redis: other.url } : pool]))
    const split: Registry = { ...registry, pools }
    const broker = await RedisBroker.connect({ registry: split, url, prefix })
    const onDefault = new Queue('switchyard.tight', { connection: { url }, prefix })
    const onOther = new Queue('switchyard.tight', { connection: { url: other.url }, prefix })
    try {
      const env = createEnvelope(
        { ...plan({ n: 2 }), workflow: 'contract.tight', pool: 'tight', queue: 'switchyard.tight' },
        {
          runId: `s-${randomUUID()}`,
          trace,
          idempotencyKey: null,
        },
        null,
      )
      await broker.submit(env, { async: true })
      assert.equal((await onOther.getJobCounts('waiting')).waiting, 1)
      assert.equal((await onDefault.getJobCounts('waiting')).waiting, 0)
      assert.equal((await broker.get(env.runId))?.status, 'queued')
    } finally {
      await Promise.all([broker.close(), onDefault.close(), onOther.close()])
      await other.stop()
    }
  })

  void test('at most retainCount succeeded runs per pool stay in Redis with their outputs, oldest dropped first', async () => {
    const { url } = server()
    const prefix = `t-${randomUUID().slice(0, 8)}`
    const broker = await RedisBroker.connect({ registry, url, prefix, retainCount: 2 })
    const source = redisRunSource('work', { url, prefix })
    source.start(async (delivery) => ({ ok: true, output: { echoed: (delivery.raw as { input: unknown }).input } }), { concurrency: 1 })
    try {
      await poolLive(broker, 'work')
      const ids: string[] = []
      for (let n = 0; n < 4; n++) {
        const env = createEnvelope(plan({ n }), { runId: `k-${randomUUID()}`, trace, idempotencyKey: null }, null)
        await broker.submit(env)
        assert.equal((await broker.wait(env.runId, { until: Date.now() + 20_000 })).status, 'succeeded')
        ids.push(env.runId)
      }
      const kept = await Promise.all(ids.map((id) => broker.get(id)))
      assert.deepEqual(
        kept.map((r) => r?.output ?? null),
        [null, null, { echoed: { n: 2 } }, { echoed: { n: 3 } }],
      )
      assert.equal((await broker.list({ status: 'succeeded' })).length, 2)
    } finally {
      await source.close()
      await broker.close()
    }
  })

  void test('wait() on a run nobody knows is UNKNOWN_RUN, not a hang', async () => {
    const { url } = server()
    const broker = await RedisBroker.connect({ registry, url, prefix: `t-${randomUUID().slice(0, 8)}` })
    try {
      await assert.rejects(broker.wait('no-such-run', { until: Date.now() + 60_000 }), {
        code: 'UNKNOWN_RUN',
        message: "unknown run 'no-such-run'",
      })
    } finally {
      await broker.close()
    }
  })
})

void describe('redis broker: Redis goes away', { skip }, () => {
  void test('submit, get and wait fail with BROKER_UNAVAILABLE within their bounds instead of hanging', async () => {
    const doomed = await startRedis()
    const registry = contractRegistry()
    const broker = await RedisBroker.connect({ registry, url: doomed.url, commandTimeoutMs: 300, warn: () => undefined })
    const source = redisRunSource('work', { url: doomed.url, closeTimeoutMs: 300, warn: () => undefined })
    source.start(async () => ({ ok: true, output: null }), { concurrency: 1 })
    const trace = { traceparent: '', tracestate: '', baggage: '' }
    const pool = registry.pools.get('tight')!
    const plan = {
      workflow: 'contract.tight',
      pool: 'tight',
      queue: 'switchyard.tight',
      runtime: 'node' as const,
      graph: 'contract/graph.ts#graph',
      prompt: null,
      input: {},
      timeoutMs: 30_000,
      deadline: new Date(Date.now() + 30_000).toISOString(),
      retry: { maxAttempts: 1, backoff: { type: 'exponential' as const, delayMs: 10 } },
      tracing: pool.tracing,
      registry: registry.digest,
    }
    try {
      const queued = createEnvelope(plan, { runId: `q-${randomUUID()}`, trace, idempotencyKey: null }, null)
      await broker.submit(queued, { async: true })
      await doomed.stop()
      const unavailable = { code: 'BROKER_UNAVAILABLE', retryable: true }
      await assert.rejects(
        broker.submit(createEnvelope(plan, { runId: `x-${randomUUID()}`, trace, idempotencyKey: null }, null), { async: true }),
        unavailable,
      )
      await assert.rejects(broker.get(queued.runId), unavailable)
      await assert.rejects(broker.wait(queued.runId, { until: Date.now() + 200 }), unavailable)
      assert.equal(await broker.ready(), false)
    } finally {
      // Closing does not hang either: past its bound it drops the connections.
      await Promise.all([broker.close(), source.close()])
      await doomed.stop()
    }
  })
})

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

  void test('a broker closed while its connections are still shaking hands leaves no unhandled rejection', async () => {
    // BullMQ 5 rejects into the void when a connection is closed with its first INFO in
    // flight, as a refused connect() (eviction policy) does.
    const { url } = server()
    const unhandled: unknown[] = []
    const record = (reason: unknown): void => void unhandled.push(reason)
    process.on('unhandledRejection', record)
    try {
      for (let i = 0; i < 30; i++) {
        // connect() waits for one connection per server; the other pools' may be mid-handshake.
        const broker = await RedisBroker.connect({ registry: contractRegistry(), url, prefix: `h-${i}` })
        await broker.close()
      }
      await new Promise((resolve) => setTimeout(resolve, 200))
    } finally {
      process.off('unhandledRejection', record)
    }
    assert.deepEqual(unhandled.map(String), [])
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
