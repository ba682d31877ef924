// A list reads what it returns. A reader with limit=1 once made the gateway read every job
// of a window per BullMQ set per pool, inputs and outputs included (a workflow filter:
// max(limit*10, 1000) of each), to drop all but one: 17 → 820 MB of heap for 400 runs of
// 1 MB in another pool. Measured here in bytes Redis sent (INFO stats'
// total_net_output_bytes of a private redis-server that nothing else talks to meanwhile):
// deterministic, unlike time or heap.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { test } from 'node:test'

import { Queue } from 'bullmq'

import { RedisBroker, redisRunSource } from '../../../../src/data/broker/redis/index.js'
import { createEnvelope } from '../../../../src/data/index.js'
import { poolLive } from '../../../helpers/pool-live.js'
import { redisPerFile } from '../../../helpers/redis-per-file.js'
import { CONTRACT, contractRegistry } from '../broker.contract.js'

const { skip, server } = redisPerFile()

const registry = contractRegistry()
const trace = { traceparent: '', tracestate: '', baggage: '' }
const BIG = 200_000

function envelope(workflow: string, pool: string, input: unknown) {
  return createEnvelope(
    {
      workflow,
      pool,
      queue: `switchyard.${pool}`,
      runtime: 'node' as const,
      graph: 'contract/graph.ts#graph',
      prompt: null,
      input,
      timeoutMs: 30_000,
      deadline: new Date(Date.now() + 30_000).toISOString(),
      retry: { maxAttempts: 1, backoff: { type: 'exponential' as const, delayMs: 10 } },
      tracing: registry.pools.get(pool)!.tracing,
      registry: registry.digest,
    },
    { runId: `l-${randomUUID()}`, trace, idempotencyKey: null },
    null,
  )
}

void test('a list of limit=1 reads one run whole: large runs of other workflows and pools are not read', { skip }, async () => {
  const { url } = server()
  const prefix = `t-${randomUUID().slice(0, 8)}`
  const broker = await RedisBroker.connect({ registry, url, prefix })
  const source = redisRunSource(CONTRACT.pools.work, { url, prefix })
  source.start(async (delivery) => ({ ok: true, output: (delivery.raw as { input: unknown }).input }), { concurrency: 2 })
  const probe = new Queue('probe', { connection: { url }, prefix })
  try {
    await poolLive(broker, CONTRACT.pools.work)
    // Two small runs of the workflow a reader asks for, then, newer, large ones of another
    // workflow of the same pool (0.2 MB in, 0.2 MB out) and queued ones of another pool (0.4 MB in).
    const echoes: string[] = []
    for (let n = 0; n < 2; n++) {
      const env = envelope(CONTRACT.workflows.echo, CONTRACT.pools.work, { n })
      await broker.submit(env)
      assert.equal((await broker.wait(env.runId, { until: Date.now() + 20_000 })).status, 'succeeded')
      echoes.push(env.runId)
    }
    for (let n = 0; n < 8; n++) {
      const env = envelope(CONTRACT.workflows.other, CONTRACT.pools.work, { text: 'x'.repeat(BIG) })
      await broker.submit(env)
      assert.equal((await broker.wait(env.runId, { until: Date.now() + 20_000 })).status, 'succeeded')
    }
    await source.close()
    for (let n = 0; n < 8; n++) {
      await broker.submit(envelope(CONTRACT.workflows.burst, CONTRACT.pools.burst, { text: 'x'.repeat(2 * BIG) }), { async: true })
    }
    const redis = await probe.client
    const sent = async () => Number(/total_net_output_bytes:(\d+)/.exec(await redis.info())?.[1])
    const measure = async <T>(read: () => Promise<T>): Promise<{ value: T; bytes: number }> => {
      const before = await sent()
      const value = await read()
      return { value, bytes: (await sent()) - before }
    }
    await broker.list({ limit: 1 }) // connections up, scripts loaded: not counted

    const one = await measure(() => broker.list({ workflow: CONTRACT.workflows.echo, limit: 1 }))
    assert.deepEqual(
      one.value.map((r) => r.runId),
      [echoes[1]],
    )
    assert.ok(one.bytes < 50_000, `listing one small run read ${one.bytes} bytes`)

    const newest = await measure(() => broker.list({ limit: 1 }))
    assert.equal(newest.value.length, 1)
    assert.equal(newest.value[0]?.workflow, CONTRACT.workflows.burst)
    // One large run whole (0.4 MB), not one per set and pool.
    assert.ok(newest.bytes < 1.5 * 2 * BIG, `listing one run read ${newest.bytes} bytes`)

    // A page still lists what it did: newest first, every state and pool, filters honoured.
    const all = await broker.list({ limit: 100 })
    assert.equal(all.length, 18)
    assert.deepEqual(
      all.map((r) => r.createdAt),
      [...all.map((r) => r.createdAt)].sort((a, b) => b - a),
    )
    assert.equal((await broker.list({ status: 'queued' })).length, 8)
    assert.equal((await broker.list({ status: 'succeeded', workflow: CONTRACT.workflows.echo })).length, 2)
    assert.equal((await broker.list({ pool: CONTRACT.pools.work, status: 'succeeded', limit: 3 })).length, 3)
  } finally {
    await probe.close()
    await source.close()
    await broker.close()
  }
})
