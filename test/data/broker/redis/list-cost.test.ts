// A list reads what it returns. A reader with limit=1 once made the gateway read every job
// of a window per BullMQ set per pool, inputs and outputs included (a workflow filter:
// max(limit*10, 1000) of each), to drop all but one: 17 → 820 MB of heap for 400 runs of
// 1 MB in another pool. Measured here in bytes Redis sent (INFO stats'
// total_net_output_bytes of a private redis-server that nothing else talks to meanwhile):
// deterministic, unlike time or heap. Runs ended while queued (their records hold their
// inputs) are filtered on their rows, kept beside the cancelled index and trimmed with it.
// A pool's Redis user writes its own jobs, rows and records: what a list reads of a run it
// returns is capped (64 KiB), and a createdAt in the future is distrusted, whatever a pool planted.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { test } from 'node:test'

import { Queue } from 'bullmq'

import { RedisBroker, poolAclRules, redisRunSource } from '../../../../src/data/broker/redis/index.js'
import { poolKeys } from '../../../../src/data/broker/redis/keys.js'
import { encodeRunError } from '../../../../src/data/broker/redis/record.js'
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

type Call = { call(...args: (string | number)[]): Promise<unknown> }

/**
 * A broker on a fresh prefix, and the attacker: pool `work`'s own Redis user (its ACL
 * rules), writing only its own queue's keys (`raw`, `keys`). `admin` is an unrestricted client.
 */
/** Runs `read` and counts the bytes Redis sent meanwhile (INFO stats total_net_output_bytes, read with `info`). */
function bytesSent(info: () => Promise<unknown>) {
  const sent = async () => Number(/total_net_output_bytes:(\d+)/.exec(String(await info()))?.[1])
  return async <T>(read: () => Promise<T>): Promise<{ value: T; bytes: number }> => {
    const before = await sent()
    const value = await read()
    return { value, bytes: (await sent()) - before }
  }
}

async function plantingRig() {
  const { url, port } = server()
  const prefix = `t-${randomUUID().slice(0, 8)}`
  const broker = await RedisBroker.connect({ registry, url, prefix })
  const probe = new Queue('probe', { connection: { url }, prefix })
  const admin = (await probe.client) as unknown as Call
  const user = `${prefix}-work`
  await admin.call('ACL', 'SETUSER', user, 'on', `>${user}-pw`, ...poolAclRules(CONTRACT.pools.work, prefix))
  const attacker = new Queue(`switchyard.${CONTRACT.pools.work}`, {
    connection: { url: `redis://${user}:${user}-pw@127.0.0.1:${port}` },
    prefix,
  })
  const raw = (await attacker.client) as unknown as Call
  const keys = poolKeys(prefix, `switchyard.${CONTRACT.pools.work}`)
  return {
    broker,
    admin,
    attacker,
    prefix,
    raw,
    keys,
    async close() {
      await attacker.close()
      await probe.close()
      await broker.close()
    },
  }
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
    const measure = bytesSent(() => redis.info())
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

void test(
  'runs ended while queued are listed by their rows: a list of limit=1 reads one record whole, not every large one of the window',
  { skip },
  async () => {
    const { url } = server()
    const prefix = `t-${randomUUID().slice(0, 8)}`
    const broker = await RedisBroker.connect({ registry, url, prefix })
    const probe = new Queue('probe', { connection: { url }, prefix })
    try {
      // No worker: every run stays queued until its caller cancels it. Two small runs of the
      // workflow a reader asks for, then, newer, large ones (0.2 MB in) of another workflow of the same pool.
      const cancel = async (workflow: string, input: unknown) => {
        const env = envelope(workflow, CONTRACT.pools.work, input)
        await broker.submit(env, { async: true })
        assert.equal((await broker.cancel(env.runId)).status, 'cancelled')
        return env.runId
      }
      const echoes = [await cancel(CONTRACT.workflows.echo, { n: 0 }), await cancel(CONTRACT.workflows.echo, { n: 1 })]
      for (let n = 0; n < 8; n++) await cancel(CONTRACT.workflows.other, { text: 'x'.repeat(BIG) })
      const redis = await probe.client
      const measure = bytesSent(() => redis.info())
      await broker.list({ limit: 1 }) // connections up, scripts loaded: not counted

      const one = await measure(() => broker.list({ workflow: CONTRACT.workflows.echo, limit: 1 }))
      assert.deepEqual(
        one.value.map((r) => `${r.runId} ${r.status}`),
        [`${echoes[1]} cancelled`],
      )
      assert.ok(one.bytes < 50_000, `listing one small cancelled run read ${one.bytes} bytes`)

      const newest = await measure(() => broker.list({ status: 'cancelled', limit: 2 }))
      assert.deepEqual(
        newest.value.map((r) => r.workflow),
        [CONTRACT.workflows.other, CONTRACT.workflows.other],
      )
      assert.ok(newest.bytes < 1.5 * 2 * BIG, `listing two runs read ${newest.bytes} bytes`)

      const all = await broker.list({ limit: 100 })
      assert.equal(all.length, 10)
      assert.ok(all.every((r) => r.status === 'cancelled' && r.pool === CONTRACT.pools.work))
      assert.deepEqual(
        all.map((r) => r.createdAt),
        [...all.map((r) => r.createdAt)].sort((a, b) => b - a),
      )
      assert.equal((await broker.list({ status: 'failed' })).length, 0)
    } finally {
      await probe.close()
      await broker.close()
    }
  },
)

void test('the rows of runs ended while queued go with their place in the index once past retention', { skip }, async () => {
  const { url } = server()
  const prefix = `t-${randomUUID().slice(0, 8)}`
  const broker = await RedisBroker.connect({ registry, url, prefix, retainFailedMs: 300 })
  const probe = new Queue('probe', { connection: { url }, prefix })
  try {
    const keys = poolKeys(prefix, `switchyard.${CONTRACT.pools.work}`)
    const cancel = async () => {
      const env = envelope(CONTRACT.workflows.echo, CONTRACT.pools.work, { n: 1 })
      await broker.submit(env, { async: true })
      await broker.cancel(env.runId)
      return env.runId
    }
    const old = await cancel()
    const redis = (await probe.client) as unknown as { call(...args: string[]): Promise<unknown> }
    assert.equal(await redis.call('HEXISTS', keys.cancelledRows, old), 1)
    await new Promise((resolve) => setTimeout(resolve, 400))
    const fresh = await cancel()
    // The trim is sent after the ending's answer: look until it has run.
    for (let i = 0; i < 50 && (await redis.call('HEXISTS', keys.cancelledRows, old)) === 1; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    assert.equal(await redis.call('HEXISTS', keys.cancelledRows, old), 0)
    assert.equal(await redis.call('ZSCORE', keys.cancelledIndex, old), null)
    assert.equal(await redis.call('HEXISTS', keys.cancelledRows, fresh), 1)
  } finally {
    await probe.close()
    await broker.close()
  }
})

void test(
  "a pool's planted jobs (2 MB each, created in the far future) cost an unfiltered list 64 KiB each and list after real runs",
  { skip },
  async () => {
    const { broker, admin, attacker, prefix, raw, keys, close } = await plantingRig()
    try {
      // Real runs, queued in another pool (no worker), newest last.
      const real: string[] = []
      for (let n = 0; n < 3; n++) {
        const env = envelope(CONTRACT.workflows.burst, CONTRACT.pools.burst, { n })
        await broker.submit(env, { async: true })
        real.push(env.runId)
        await new Promise((resolve) => setTimeout(resolve, 5))
      }
      // 100 jobs of 2 MB of data created at 9e15 (year 287,000); 10 of them "succeeded" with
      // 2 MB of output, 10 "failed" with a 2 MB error, 10 with a 2 MB owner.
      const HUGE = 2 * 1024 * 1024
      const planted: string[] = []
      for (let n = 0; n < 100; n++) {
        const job = await attacker.add(
          CONTRACT.workflows.echo,
          { workflow: CONTRACT.workflows.echo, input: 'x'.repeat(HUGE) },
          { timestamp: 9e15 },
        )
        const id = job.id!
        planted.push(id)
        if (n < 20) {
          await raw.call('LREM', keys.wait, 0, id)
          await raw.call('ZADD', `${prefix}:switchyard.${CONTRACT.pools.work}:${n < 10 ? 'completed' : 'failed'}`, 9e15, id)
          if (n < 10) await raw.call('HSET', keys.job(id), 'returnvalue', JSON.stringify({ output: 'y'.repeat(HUGE) }), 'finishedOn', 9e15)
          else {
            const reason = encodeRunError(
              { code: 'X', message: 'z'.repeat(HUGE), retryable: false },
              { startedAt: 1, finishedAt: 2, attempts: 1 },
            )
            await raw.call('HSET', keys.job(id), 'failedReason', reason, 'finishedOn', 9e15)
          }
        } else if (n < 30) await raw.call('SET', keys.owner(id), 'o'.repeat(HUGE))
      }
      const measure = bytesSent(() => admin.call('INFO', 'stats'))
      await broker.list({ limit: 1 }) // connections up, scripts loaded: not counted

      for (const limit of [100, 1000]) {
        const { value: listed, bytes } = await measure(() => broker.list({ limit }))
        // 64 KiB per run returned, and a little for the ids and small fields of each set's window.
        const rows = Math.min(limit, 103)
        assert.ok(bytes < rows * 64 * 1024 + 1024 * 1024, `an unfiltered list of limit=${limit} read ${bytes} bytes`)
        assert.equal(listed.length, rows)
        // The real runs first, newest first, whole; then the planted ones, distrusted and without their 2 MB.
        assert.deepEqual(
          listed.slice(0, 3).map((r) => `${r.runId} ${r.pool}`),
          [...real].reverse().map((id) => `${id} ${CONTRACT.pools.burst}`),
        )
        for (const r of listed.slice(0, 3)) {
          assert.deepEqual([r.omitted, r.input, r.deadline !== ''], [undefined, { n: real.indexOf(r.runId) }, true])
        }
        for (const r of listed.slice(3)) {
          assert.ok(planted.includes(r.runId), r.runId)
          assert.ok(JSON.stringify(r).length < 64 * 1024, `planted run ${r.runId} listed with ${JSON.stringify(r).length} bytes`)
          assert.equal(r.createdAt, 0)
          assert.equal(new Date(r.createdAt).toISOString(), '1970-01-01T00:00:00.000Z')
          assert.deepEqual([r.startedAt, r.finishedAt], [undefined, undefined])
          assert.equal(r.workflow, CONTRACT.workflows.echo)
          assert.equal(r.input, undefined)
          assert.equal(r.output, undefined)
          assert.equal(r.error, undefined)
          const n = planted.indexOf(r.runId)
          const expected = ['createdAt', 'input', 'deadline', 'traceId', 'idempotencyKey', 'registry']
          if (n < 10) expected.push('output', 'finishedAt')
          else if (n < 20) expected.push('error', 'finishedAt')
          else if (n < 30) expected.push('owner')
          assert.deepEqual([...(r.omitted ?? [])].sort(), expected.sort(), r.runId)
          assert.equal(r.status, n < 10 ? 'succeeded' : n < 20 ? 'failed' : 'queued')
        }
      }
    } finally {
      await close()
    }
  },
)

void test(
  'a job a pool planted with data and opts that are not JSON is listed without them; the list does not fail',
  { skip },
  async () => {
    const { url } = server()
    const prefix = `t-${randomUUID().slice(0, 8)}`
    const broker = await RedisBroker.connect({ registry, url, prefix })
    // Plain commands on pool `work`'s own keys: what its Redis user may write (the test above plants under that user).
    const pool = new Queue(`switchyard.${CONTRACT.pools.work}`, { connection: { url }, prefix })
    try {
      const env = envelope(CONTRACT.workflows.burst, CONTRACT.pools.burst, { n: 1 })
      await broker.submit(env, { async: true })
      const job = await pool.add(CONTRACT.workflows.echo, { workflow: CONTRACT.workflows.echo })
      const raw = (await pool.client) as unknown as { call(...args: string[]): Promise<unknown> }
      await raw.call('HSET', poolKeys(prefix, `switchyard.${CONTRACT.pools.work}`).job(job.id!), 'data', 'not json', 'opts', '{')
      // JSON, but not the objects BullMQ parses them into: 'null' opts made Job.fromJSON throw and every list answer 503.
      const nulls = await pool.add(CONTRACT.workflows.echo, { workflow: CONTRACT.workflows.echo })
      await raw.call('HSET', poolKeys(prefix, `switchyard.${CONTRACT.pools.work}`).job(nulls.id!), 'data', '[]', 'opts', 'null')
      const listed = await broker.list()
      const left = ['deadline', 'idempotencyKey', 'input', 'maxAttempts', 'registry', 'traceId']
      assert.deepEqual(
        listed.map((r) => [r.runId, r.workflow, r.omitted && [...r.omitted].sort()]),
        [
          [nulls.id, CONTRACT.workflows.echo, left],
          [job.id, CONTRACT.workflows.echo, left],
          [env.runId, CONTRACT.workflows.burst, undefined],
        ],
      )
    } finally {
      await pool.close()
      await broker.close()
    }
  },
)

void test(
  "a pool's planted records of runs ended while queued (2 MB each, rows of 2 MB, created now) are not read whole; the real ended runs still list",
  { skip },
  async () => {
    const { broker, admin, raw, keys, close } = await plantingRig()
    try {
      // 100 records of 2 MB, created in the last 10 s, in the index (ended before the real runs,
      // which stay in the window of 100): 40 with a row of 2 MB, 30 with a row that fits, 30 with none.
      const HUGE = 2 * 1024 * 1024
      const planted: string[] = []
      const start = Date.now() - 10_000
      for (let n = 0; n < 100; n++) {
        const id = `planted-${n}`
        planted.push(id)
        const createdAt = start + n
        // Of those that fit, 5 say they were created in the far future (distrusted: listed last)
        // and 5 name a workflow of another pool (a row speaks only for its own pool: not listed).
        const row = {
          workflow: n >= 65 && n < 70 ? CONTRACT.workflows.burst : CONTRACT.workflows.echo,
          status: 'cancelled',
          createdAt: n >= 40 && n < 45 ? 9e15 : createdAt,
        }
        const record = { ...row, runId: id, pool: CONTRACT.pools.work, attempts: 0, maxAttempts: 1, deadline: '', traceId: null }
        await raw.call('SET', keys.cancelled(id), JSON.stringify({ ...record, input: 'x'.repeat(HUGE) }))
        await raw.call('ZADD', keys.cancelledIndex, createdAt, id)
        if (n < 40) await raw.call('HSET', keys.cancelledRows, id, JSON.stringify({ ...row, pad: 'p'.repeat(HUGE) }))
        else if (n < 70) await raw.call('HSET', keys.cancelledRows, id, JSON.stringify(row))
      }
      // Then real runs of pool `work`, cancelled while queued (no worker); the newest one's row is
      // dropped (as a run ended before rows were kept has none): it is listed from its record.
      const real: string[] = []
      for (let n = 0; n < 3; n++) {
        const env = envelope(CONTRACT.workflows.echo, CONTRACT.pools.work, { n })
        await broker.submit(env, { async: true })
        assert.equal((await broker.cancel(env.runId)).status, 'cancelled')
        real.push(env.runId)
        await new Promise((resolve) => setTimeout(resolve, 5))
      }
      await raw.call('HDEL', keys.cancelledRows, real[2]!)
      const measure = bytesSent(() => admin.call('INFO', 'stats'))
      await broker.list({ limit: 1 }) // connections up, scripts loaded: not counted

      const { value: listed, bytes } = await measure(() => broker.list({ limit: 100 }))
      console.log(`list({ limit: 100 }) with 100 planted records of 2 MB read ${bytes} bytes`)
      // 64 KiB per run returned, and a little for the ids and rows of the window.
      assert.ok(bytes < 100 * 64 * 1024 + 1024 * 1024, `an unfiltered list of limit=100 read ${bytes} bytes`)
      // The real runs, whole, then the planted records with a row that fits, listed from it (newest first).
      assert.deepEqual(
        listed.map((r) => r.runId),
        [...[...real].reverse(), ...planted.slice(45, 65).reverse(), ...planted.slice(40, 45).reverse()],
      )
      assert.deepEqual(
        listed.slice(-5).map((r) => [r.createdAt, r.omitted?.includes('createdAt')]),
        planted.slice(40, 45).map(() => [0, true]),
      )
      for (const r of listed.slice(3)) {
        assert.deepEqual(
          [r.pool, r.workflow, r.status, r.input, r.owner],
          [CONTRACT.pools.work, CONTRACT.workflows.echo, 'cancelled', undefined, null],
        )
        assert.ok(r.omitted?.includes('input') && r.omitted.includes('deadline'), r.runId)
      }
      for (const r of listed.slice(0, 3)) {
        assert.deepEqual(
          [r.pool, r.status, r.input, r.omitted],
          [CONTRACT.pools.work, 'cancelled', { n: real.indexOf(r.runId) }, undefined],
        )
        assert.notEqual(r.deadline, '')
      }
      // get() still reads a run whole.
      assert.equal(((await broker.get(planted[50]!)) as { input?: string } | null)?.input?.length, HUGE)
    } finally {
      await close()
    }
  },
)

void test(
  "records without rows are decoded in Redis up to a budget per list (1 MiB), so a pool's 100 planted 60 KiB records do not hold Redis for 6 MB of JSON",
  { skip },
  async () => {
    const { broker, raw, keys, close } = await plantingRig()
    try {
      // Real runs first (they have rows), then 100 planted records of 60 KiB with no row, newer.
      const real: string[] = []
      for (let n = 0; n < 3; n++) {
        const env = envelope(CONTRACT.workflows.echo, CONTRACT.pools.work, { n })
        await broker.submit(env, { async: true })
        assert.equal((await broker.cancel(env.runId)).status, 'cancelled')
        real.push(env.runId)
      }
      const SIZE = 60 * 1024
      const now = Date.now()
      for (let n = 0; n < 100; n++) {
        const id = `planted-${n}`
        const row = { workflow: CONTRACT.workflows.echo, status: 'cancelled', createdAt: now + n }
        const record = { ...row, runId: id, pool: CONTRACT.pools.work, attempts: 0, maxAttempts: 1, deadline: '', traceId: null }
        const text = JSON.stringify({ ...record, input: '' })
        await raw.call('SET', keys.cancelled(id), JSON.stringify({ ...record, input: 'x'.repeat(SIZE - text.length) }))
        await raw.call('ZADD', keys.cancelledIndex, now + n, id)
      }
      const listed = await broker.list({ limit: 200 })
      const plantedListed = listed.filter((r) => r.runId.startsWith('planted-')).length
      // At most 1 MiB of them decoded: 17 of 60 KiB.
      assert.ok(plantedListed <= Math.floor((1024 * 1024) / SIZE), `${plantedListed} planted records without rows were decoded`)
      // The real runs, with rows, still list whole.
      assert.deepEqual(
        listed.filter((r) => real.includes(r.runId)).map((r) => [r.status, r.omitted]),
        real.map(() => ['cancelled', undefined]),
      )
    } finally {
      await close()
    }
  },
)
