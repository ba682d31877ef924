// The Redis expiry pass (src/data/broker/redis/expiry.ts) where only Redis can show it:
// several gateways' passes racing on the same runs end each one once, and a worker that
// never drops its deadline entry (a plain BullMQ Worker, which knows
// nothing of ours) leaves an entry that ends nothing, because the pass reads the job's state first.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { describe, test } from 'node:test'

import { Queue, Worker } from 'bullmq'

import { RedisBroker, redisRunSource } from '../../../../src/data/broker/redis/index.js'
import { commands } from '../../../../src/data/broker/redis/commands.js'
import { poolKeys } from '../../../../src/data/broker/redis/keys.js'
import { EXPIRED_MESSAGE } from '../../../../src/data/broker/run-errors.js'
import { poolLive } from '../../../helpers/pool-live.js'
import { redisPerFile } from '../../../helpers/redis-per-file.js'
import { CONTRACT, contractRegistry, envelope } from '../broker.contract.js'

const { skip, server } = redisPerFile()

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

void describe('redis expiry pass', { skip }, () => {
  void test('3 gateways expiring the same 30 runs at once: each run ends once, is dead-lettered once, and is counted once', async () => {
    const { url } = server()
    const prefix = `t-${randomUUID().slice(0, 8)}`
    const registry = contractRegistry()
    const gateways = await Promise.all([1, 2, 3].map(() => RedisBroker.connect({ registry, url, prefix, expire: true })))
    const queue = new Queue(`switchyard.${CONTRACT.pools.burst}`, { connection: { url }, prefix })
    try {
      const runs = Array.from({ length: 30 }, (_, i) => envelope(registry, CONTRACT.workflows.burst, { mode: 'echo', value: i }, null, 500))
      // Submitted through different gateways, as a load balancer would spread them.
      for (const [i, env] of runs.entries()) await gateways[i % 3]!.submit(env, { async: true })
      const waits = runs.map((env, i) => gateways[(i + 1) % 3]!.wait(env.runId, { until: Date.parse(env.deadline) + 10_000 }))
      await sleep(Math.max(0, Math.max(...runs.map((env) => Date.parse(env.deadline))) - Date.now()))
      // Every gateway's pass at once, twice, beside their timers' passes.
      const ended = await Promise.all([...gateways, ...gateways].map((gateway) => gateway.expireNow()))
      const records = await Promise.all(waits)
      for (const record of records) {
        assert.equal(record.status, 'failed', `${record.runId} still ${record.status}`)
        assert.deepEqual(record.error, { code: 'DEADLINE_EXCEEDED', message: EXPIRED_MESSAGE, retryable: false })
        assert.equal(record.deadLettered, true)
      }
      // Counted once across the gateways (the metric's sum), by whichever ended each.
      const counted = gateways.map((gateway) => gateway.expiries().get(CONTRACT.pools.burst) ?? 0)
      assert.equal(
        counted.reduce((a, b) => a + b, 0),
        30,
        `counted ${counted.join(' + ')} (these passes ended ${ended.join(', ')})`,
      )
      const client = await queue.client
      const keys = poolKeys(prefix, queue.name)
      assert.equal(await client.zcard(keys.cancelledIndex), 30, 'dead-lettered once each')
      assert.equal(await client.zcard(keys.deadlines), 0, 'no deadline entry left')
      assert.equal((await queue.getJobCounts('waiting')).waiting, 0)
      const listed = (await gateways[0]!.list({ pool: CONTRACT.pools.burst, status: 'failed', limit: 100 })).map((r) => r.runId)
      assert.deepEqual(listed.sort(), runs.map((env) => env.runId).sort())
    } finally {
      await queue.close()
      await Promise.all(gateways.map((gateway) => gateway.close()))
    }
  })

  void test("a worker that never drops its entry (a plain BullMQ Worker) leaves one that ends nothing: the pass reads the run's state first", async () => {
    const { url } = server()
    const prefix = `t-${randomUUID().slice(0, 8)}`
    const registry = contractRegistry()
    const gateway = await RedisBroker.connect({ registry, url, prefix, expire: true })
    const queueName = `switchyard.${CONTRACT.pools.work}`
    const keys = poolKeys(prefix, queueName)
    let release = (): void => undefined
    const held = new Promise<void>((resolve) => (release = resolve))
    // Takes the run and holds it past its deadline, knowing nothing of `sy-deadlines`.
    const foreign = new Worker(
      queueName,
      async () => {
        await held
        return { by: 'foreign' }
      },
      { connection: { url }, prefix },
    )
    const queue = new Queue(queueName, { connection: { url }, prefix })
    try {
      const env = envelope(registry, CONTRACT.workflows.echo, { mode: 'echo', value: 'x' }, null, 600)
      await gateway.submit(env, { async: true })
      const client = await queue.client
      for (let i = 0; i < 100 && (await gateway.get(env.runId))?.status !== 'running'; i++) await sleep(50)
      assert.equal((await gateway.get(env.runId))?.status, 'running')
      assert.notEqual(await client.zscore(keys.deadlines, env.runId), null, 'the foreign worker left its entry')
      await sleep(Math.max(0, Date.parse(env.deadline) - Date.now() + 100))
      assert.equal(await gateway.expireNow(), 0)
      assert.equal((await gateway.get(env.runId))?.status, 'running', 'a running run is not expired')
      assert.equal(await client.zscore(keys.deadlines, env.runId), null, 'its entry is dropped')
      release()
      const record = await gateway.wait(env.runId, { until: Date.now() + 10_000 })
      assert.equal(record.status, 'succeeded')
      // An entry written back by hand for the finished run (a stale one) ends nothing either.
      await commands(client).zadd(keys.deadlines, Date.now() - 1000, env.runId)
      assert.equal(await gateway.expireNow(), 0)
      assert.equal((await gateway.get(env.runId))?.status, 'succeeded')
      assert.equal(await client.zcard(keys.deadlines), 0)
      assert.equal(gateway.expiries().get(CONTRACT.pools.work) ?? 0, 0)
    } finally {
      release()
      await foreign.close()
      await queue.close()
      await gateway.close()
    }
  })

  void test('a run its node worker put back for a retry, with no worker left to take it, ends at its deadline', async () => {
    const { url } = server()
    const prefix = `t-${randomUUID().slice(0, 8)}`
    const registry = contractRegistry()
    // The retry waits 800 ms, so it would start before the run's 1.5 s deadline: it is retried, not failed at once.
    const gateway = await RedisBroker.connect({ registry, url, prefix, expire: true, backoffMs: 800 })
    const source = redisRunSource(CONTRACT.pools.tight, { url, prefix })
    let attempted = (): void => undefined
    const first = new Promise<void>((resolve) => (attempted = resolve))
    source.start(
      async () => {
        attempted()
        return { ok: false, error: { code: 'MODEL_FAILED', message: 'model timed out', retryable: true } }
      },
      { concurrency: 1 },
    )
    try {
      await poolLive(gateway, CONTRACT.pools.tight)
      const env = envelope(registry, CONTRACT.workflows.tight, { mode: 'retryable' }, null, 1500)
      await gateway.submit(env)
      await first
      // The only worker leaves once its attempt is settled (the run is back in the queue, waiting out its backoff).
      await source.drain()
      const record = await gateway.wait(env.runId, { until: Date.parse(env.deadline) + 5000 })
      assert.equal(record.status, 'failed', `still ${record.status}`)
      assert.deepEqual(record.error, { code: 'DEADLINE_EXCEEDED', message: EXPIRED_MESSAGE, retryable: false })
      assert.equal(record.attempts, 1)
      assert.equal(gateway.expiries().get(CONTRACT.pools.tight), 1)
    } finally {
      await source.close()
      await gateway.close()
    }
  })

  void test("a hostile pool's planted keys make the pass touch nothing of another pool, nor stop it for the others", async () => {
    // A pool's Redis user writes anything under its own prefix; the gateway's user, which runs
    // the pass, reaches every pool. Here pool `burst` is the hostile one: it names another
    // pool's key (`work`'s sy-unrun hash) as a child of its own queued run, which BullMQ's
    // default Queue.remove would delete with the run; and it spoils its own deadline set.
    const { url } = server()
    const prefix = `t-${randomUUID().slice(0, 8)}`
    const registry = contractRegistry()
    const gateway = await RedisBroker.connect({ registry, url, prefix, expire: true })
    const queue = new Queue(`switchyard.${CONTRACT.pools.burst}`, { connection: { url }, prefix })
    try {
      const client = await queue.client
      const hostile = poolKeys(prefix, `switchyard.${CONTRACT.pools.burst}`)
      const victim = poolKeys(prefix, `switchyard.${CONTRACT.pools.work}`)
      const tight = poolKeys(prefix, `switchyard.${CONTRACT.pools.tight}`)
      await client.hset(victim.unrun, { 'some-run': '1' })
      const planted = envelope(registry, CONTRACT.workflows.burst, { mode: 'echo', value: 'planted' }, null, 400)
      await gateway.submit(planted, { async: true })
      const sadd = (key: string, member: string) => (client as unknown as { sadd(k: string, m: string): Promise<number> }).sadd(key, member)
      await sadd(`${hostile.job(planted.runId)}:dependencies`, victim.unrun)
      // Another pool's run due in the same pass, and a third pool whose set is not a set any more.
      const innocent = envelope(registry, CONTRACT.workflows.echo, { mode: 'echo', value: 'innocent' }, null, 400)
      await gateway.submit(innocent, { async: true })
      await commands(client).del(tight.deadlines)
      await client.set(tight.deadlines, 'not a sorted set')
      await sleep(Math.max(0, Math.max(Date.parse(planted.deadline), Date.parse(innocent.deadline)) - Date.now()))
      await gateway.expireNow()
      assert.equal(await client.hget(victim.unrun, 'some-run'), '1', "the other pool's key is untouched")
      const ends = await Promise.all([planted, innocent].map((env) => gateway.wait(env.runId, { until: Date.now() + 5000 })))
      for (const record of ends) assert.equal(record.error?.code, 'DEADLINE_EXCEEDED', `${record.runId}: ${record.status}`)
    } finally {
      await queue.close()
      await gateway.close()
    }
  })
})
