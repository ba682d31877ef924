// Ending a queued run when a step fails half-way (src/data/broker/redis/end-queued.ts): the
// record is written, then BullMQ's Queue.remove, and Redis may drop the connection in
// between, or the ender die there. On real Redis and real BullMQ: Queue.remove made to throw
// once (the Queue's own public method, wrapped), and a record left as by an ender that died
// after writing it. A retried cancel, and the next expiry pass, still end the run for real (its
// job is gone, a worker that comes never runs it); enders racing on such a run end it once. A
// removal whose reply was lost (made to run, then throw) is finished by the retried cancel or
// the next pass: the run enters the cancelled index it was left out of, listed and counted once.
// Also: the run's count of takes not run (`sy-unrun`) is forgotten when it ends in the queue,
// is refused, or is failed by BullMQ's stall limit; and an admission whose gateway died before
// its add leaves nothing the expiry pass reads for ever.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { describe, test } from 'node:test'

import { Queue, Worker, type Job } from 'bullmq'

import { SwitchyardError } from '../../../../src/control/index.js'
import type { RunRecord } from '../../../../src/data/broker/broker.js'
import { RedisBroker, redisRunSource } from '../../../../src/data/broker/redis/index.js'
import { commands } from '../../../../src/data/broker/redis/commands.js'
import { countUnrun } from '../../../../src/data/broker/redis/crashes.js'
import { startExpiry } from '../../../../src/data/broker/redis/expiry.js'
import { poolKeys, type PoolKeys } from '../../../../src/data/broker/redis/keys.js'
import { cancelledError, expiredError } from '../../../../src/data/broker/run-errors.js'
import { eventually } from '../../../helpers/eventually.js'
import { redisPerFile } from '../../../helpers/redis-per-file.js'
import { CONTRACT, contractRegistry, envelope } from '../broker.contract.js'

const { skip, server } = redisPerFile()

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const POOL = CONTRACT.pools.work
const QUEUE = `switchyard.${POOL}`

/** Queue.remove throws once, on whichever Queue calls it next (a connection dropped mid-ending); restored after. */
function removeThrowsOnce(): { readonly thrown: () => boolean } {
  const original = Queue.prototype.remove
  let thrown = false
  Queue.prototype.remove = async function () {
    Queue.prototype.remove = original
    thrown = true
    throw new Error('Connection is closed.')
  }
  return { thrown: () => thrown }
}

/** Queue.remove runs once, on whichever Queue calls it next, but its reply is lost (it throws after removing); restored after. */
function removeRunsReplyLost(original: Queue['remove']): void {
  Queue.prototype.remove = async function (this: Queue, ...args: Parameters<Queue['remove']>) {
    Queue.prototype.remove = original
    await original.apply(this, args)
    throw new Error('Command timed out')
  }
}

/** A gateway (no expiry timer of its own), the pool's keys, and a plain Queue on the same prefix. */
async function rig(options: { expire?: boolean } = {}) {
  const { url } = server()
  const prefix = `eq-${randomUUID().slice(0, 8)}`
  const registry = contractRegistry()
  const gateway = await RedisBroker.connect({ registry, url, prefix, expire: options.expire ?? false })
  const queue = new Queue(QUEUE, { connection: { url }, prefix })
  const client = await queue.client
  const keys = poolKeys(prefix, QUEUE)
  /** A run queued with no worker to take it, `timeoutMs` before its deadline. */
  const queued = async (timeoutMs?: number, value = 'x') => {
    const env = envelope(registry, CONTRACT.workflows.echo, { mode: 'echo', value }, null, timeoutMs)
    await gateway.submit(env, { async: true })
    return env
  }
  /** An expiry pass of its own, on its own Queue (as another gateway's), its timer stopped: `pass()` by hand. */
  const expiry = (retainMs = 60_000) => {
    const own = new Queue(QUEUE, { connection: { url }, prefix })
    const expired: string[] = []
    const warnings: string[] = []
    const pass = startExpiry({
      targets: [{ queue: own, keys, pool: POOL }],
      retainMs,
      admissionMs: 15_000,
      expired: (_pool, runId) => expired.push(runId),
      warn: (message) => warnings.push(message),
    })
    pass.stop()
    return { pass: () => pass.pass(), expired, warnings, close: () => own.close() }
  }
  /** A worker that comes now: it runs a new run, and never `ended`. */
  const laterWorkerSkips = async (ended: string) => {
    const ran: string[] = []
    const source = redisRunSource(POOL, { url, prefix, heartbeat: false })
    source.start(
      async ({ runId }) => {
        ran.push(runId ?? '?')
        return { ok: true, output: { ran: runId } }
      },
      { concurrency: 1 },
    )
    try {
      const next = await queued()
      assert.equal((await gateway.wait(next.runId, { until: Date.now() + 10_000 })).status, 'succeeded')
      assert.deepEqual(ran, [next.runId], `the worker ran ${ran.join(', ')}`)
    } finally {
      await source.close()
    }
    assert.ok(!ran.includes(ended))
  }
  const close = async () => {
    await queue.close()
    await gateway.close()
  }
  return { url, prefix, registry, gateway, queue, client, keys, queued, expiry, laterWorkerSkips, close }
}

/** The record an ender writes first, left as by one that died before its removal (or whose removal threw and then its connection). */
async function leftBehind(client: Awaited<Queue['client']>, keys: PoolKeys, record: RunRecord): Promise<void> {
  await commands(client).set(keys.cancelled(record.runId), JSON.stringify(record), 'PX', 60_000)
}

async function rejection(promise: Promise<unknown>): Promise<SwitchyardError> {
  try {
    await promise
  } catch (error) {
    assert.ok(error instanceof SwitchyardError, `expected a SwitchyardError, got ${String(error)}`)
    return error
  }
  assert.fail('expected a rejection')
}

void describe('ending a queued run half-way', { skip }, () => {
  void test('cancel whose removal threw: it answers 503, and the retried cancel ends the run for real (its job is gone, a worker that comes never runs it)', async () => {
    const { gateway, queue, client, keys, queued, laterWorkerSkips, close } = await rig()
    try {
      const env = await queued()
      const failing = removeThrowsOnce()
      const error = await rejection(gateway.cancel(env.runId))
      assert.ok(failing.thrown())
      assert.equal(error.code, 'BROKER_UNAVAILABLE')
      assert.equal(error.retryable, true)
      assert.equal(await commands(client).exists(keys.cancelled(env.runId)), 0, 'its record taken back')
      assert.equal((await gateway.get(env.runId))?.status, 'queued', 'not ended, and not said to be')
      const record = await gateway.cancel(env.runId)
      assert.equal(record.status, 'cancelled')
      assert.equal(await queue.getJob(env.runId), undefined, 'its job is gone')
      assert.equal((await client.zscore(keys.cancelledIndex, env.runId)) !== null, true)
      assert.equal((await gateway.get(env.runId))?.status, 'cancelled')
      await laterWorkerSkips(env.runId)
    } finally {
      await close()
    }
  })

  void test('cancel whose removal ran but whose reply was lost: the record stays (the run is ended, not unknown), and the retried cancel answers it', async () => {
    const { gateway, queue, queued, close } = await rig()
    const original = Queue.prototype.remove
    try {
      const env = await queued()
      Queue.prototype.remove = async function (this: Queue, ...args: Parameters<Queue['remove']>) {
        Queue.prototype.remove = original
        await original.apply(this, args)
        throw new Error('Command timed out')
      }
      assert.equal((await rejection(gateway.cancel(env.runId))).code, 'BROKER_UNAVAILABLE')
      assert.equal(await queue.getJob(env.runId), undefined)
      assert.equal((await gateway.get(env.runId))?.status, 'cancelled')
      assert.equal((await gateway.cancel(env.runId)).status, 'cancelled')
    } finally {
      Queue.prototype.remove = original
      await close()
    }
  })

  void test('cancel whose removal ran but whose reply was lost: the retried cancel puts the run in the cancelled index it was left out of (listed, once)', async () => {
    const { gateway, client, keys, queued, close } = await rig()
    const original = Queue.prototype.remove
    try {
      const env = await queued()
      await countUnrun(client, keys, env.runId, 1)
      removeRunsReplyLost(original)
      assert.equal((await rejection(gateway.cancel(env.runId))).code, 'BROKER_UNAVAILABLE')
      assert.equal(await client.zscore(keys.cancelledIndex, env.runId), null, 'left out of the index by the lost reply')
      const record = await gateway.cancel(env.runId)
      assert.equal(record.status, 'cancelled')
      assert.equal(Number(await client.zscore(keys.cancelledIndex, env.runId)), record.finishedAt, "indexed at the record's finishedAt")
      assert.equal(await client.zscore(keys.deadlines, env.runId), null)
      assert.equal(await client.hget(keys.unrun, env.runId), null)
      assert.equal((await gateway.cancel(env.runId)).status, 'cancelled')
      assert.equal(await client.zcard(keys.cancelledIndex), 1)
      const listed = (await gateway.list({ pool: POOL, status: 'cancelled' })).map((r) => r.runId)
      assert.deepEqual(listed, [env.runId])
    } finally {
      Queue.prototype.remove = original
      await close()
    }
  })

  void test('a run whose ending the retried cancel finished gets its row: one whose record is over what a list reads of it (64 KiB) is listed from it', async () => {
    const { gateway, client, keys, queued, close } = await rig()
    const original = Queue.prototype.remove
    try {
      const env = await queued(undefined, 'x'.repeat(100_000))
      removeRunsReplyLost(original)
      assert.equal((await rejection(gateway.cancel(env.runId))).code, 'BROKER_UNAVAILABLE')
      const record = await gateway.cancel(env.runId)
      assert.equal(record.status, 'cancelled')
      assert.deepEqual(JSON.parse((await client.hget(keys.cancelledRows, env.runId)) ?? 'null'), {
        workflow: CONTRACT.workflows.echo,
        status: 'cancelled',
        createdAt: record.createdAt,
      })
      const listed = await gateway.list({ pool: POOL })
      assert.deepEqual(
        listed.map((r) => [r.runId, r.status, r.input, r.omitted?.includes('input')]),
        [[env.runId, 'cancelled', undefined, true]],
      )
      assert.equal(((await gateway.get(env.runId))?.input as { value: string }).value.length, 100_000, 'get() reads it whole')
    } finally {
      Queue.prototype.remove = original
      await close()
    }
  })

  void test("an expiry pass whose removal's reply was lost: the next pass puts the run in the index, counts it once, and drops its entry", async () => {
    const { gateway, client, keys, queued, expiry, close } = await rig()
    const pass = expiry()
    const original = Queue.prototype.remove
    try {
      const env = await queued(300)
      await sleep(Math.max(0, Date.parse(env.deadline) - Date.now() + 50))
      removeRunsReplyLost(original)
      assert.equal(await pass.pass(), 0)
      assert.equal(pass.warnings.length, 1, pass.warnings.join('; '))
      assert.equal((await gateway.get(env.runId))?.status, 'failed', 'ended: its record kept')
      assert.equal(await client.zscore(keys.cancelledIndex, env.runId), null, 'left out of the index by the lost reply')
      assert.equal(await pass.pass(), 1, 'the next pass finishes it, and counts it')
      assert.deepEqual(pass.expired, [env.runId])
      assert.notEqual(await client.zscore(keys.cancelledIndex, env.runId), null)
      assert.equal(await client.zscore(keys.deadlines, env.runId), null, 'its entry dropped')
      assert.equal(await pass.pass(), 0)
      assert.deepEqual(pass.expired, [env.runId], 'counted once')
      const listed = (await gateway.list({ pool: POOL, status: 'failed' })).map((r) => r.runId)
      assert.deepEqual(listed, [env.runId])
    } finally {
      Queue.prototype.remove = original
      await pass.close()
      await close()
    }
  })

  void test('a cancel record left by a cancel that died before its removal: the retried cancel removes the job and answers with that record', async () => {
    const { gateway, queue, client, keys, queued, laterWorkerSkips, close } = await rig()
    try {
      const env = await queued()
      const queuedRecord = await gateway.get(env.runId)
      assert.ok(queuedRecord)
      const earlier: RunRecord = {
        ...queuedRecord,
        status: 'cancelled',
        error: cancelledError(env.runId, 'while queued'),
        finishedAt: Date.now() - 5000,
      }
      await leftBehind(client, keys, earlier)
      const record = await gateway.cancel(env.runId)
      assert.equal(record.status, 'cancelled')
      assert.equal(record.finishedAt, earlier.finishedAt, 'the stored record, not overwritten')
      assert.equal(await queue.getJob(env.runId), undefined, 'its job is gone')
      assert.equal(await client.zcard(keys.cancelledIndex), 1)
      await laterWorkerSkips(env.runId)
    } finally {
      await close()
    }
  })

  void test('an expiry pass whose removal threw: the next pass still ends the run, once', async () => {
    const { gateway, queue, client, keys, queued, expiry, close } = await rig()
    const pass = expiry()
    try {
      const env = await queued(300)
      await sleep(Math.max(0, Date.parse(env.deadline) - Date.now() + 50))
      const failing = removeThrowsOnce()
      assert.equal(await pass.pass(), 0)
      assert.ok(failing.thrown())
      assert.equal(pass.warnings.length, 1, pass.warnings.join('; '))
      assert.equal(await pass.pass(), 1, 'the next pass ends it')
      assert.deepEqual(pass.expired, [env.runId])
      assert.equal(await queue.getJob(env.runId), undefined, 'its job is gone')
      const record = await gateway.get(env.runId)
      assert.equal(record?.status, 'failed')
      assert.deepEqual(record?.error, expiredError())
      assert.equal(await client.zcard(keys.deadlines), 0)
      assert.equal(await pass.pass(), 0, 'and ends it once')
    } finally {
      await pass.close()
      await close()
    }
  })

  void test('two passes racing on a run whose earlier pass died after its record: it is ended once, with that record, and counted once', async () => {
    const { gateway, queue, client, keys, queued, expiry, close } = await rig()
    const [a, b] = [expiry(), expiry()]
    try {
      const runs = await Promise.all([1, 2, 3, 4, 5].map(() => queued(300)))
      await sleep(Math.max(0, Math.max(...runs.map((env) => Date.parse(env.deadline))) - Date.now() + 50))
      const earlier = new Map<string, RunRecord>()
      for (const env of runs) {
        const queuedRecord = await gateway.get(env.runId)
        assert.ok(queuedRecord)
        const record: RunRecord = {
          ...queuedRecord,
          status: 'failed',
          error: expiredError(),
          finishedAt: Date.now() - 1000,
          deadLettered: true,
        }
        earlier.set(env.runId, record)
        await leftBehind(client, keys, record)
      }
      const ended = await Promise.all([a.pass(), b.pass(), a.pass(), b.pass()])
      assert.equal(
        ended.reduce((x, y) => x + y, 0),
        runs.length,
        `ended ${ended.join(' + ')}`,
      )
      assert.deepEqual([...a.expired, ...b.expired].sort(), runs.map((env) => env.runId).sort(), 'each counted once')
      for (const env of runs) {
        assert.equal(await queue.getJob(env.runId), undefined, 'its job is gone')
        assert.equal((await gateway.get(env.runId))?.finishedAt, earlier.get(env.runId)?.finishedAt, 'with the stored record')
      }
      assert.equal(await client.zcard(keys.cancelledIndex), runs.length)
      assert.equal(await client.zcard(keys.deadlines), 0)
    } finally {
      await Promise.all([a.close(), b.close()])
      await close()
    }
  })

  void test('a cancel and a pass racing on a run whose earlier cancel died after its record: it ends cancelled, once, and no pass counts it expired', async () => {
    const { gateway, queue, client, keys, queued, expiry, laterWorkerSkips, close } = await rig()
    const pass = expiry()
    try {
      const env = await queued(300)
      const queuedRecord = await gateway.get(env.runId)
      assert.ok(queuedRecord)
      await leftBehind(client, keys, {
        ...queuedRecord,
        status: 'cancelled',
        error: cancelledError(env.runId, 'while queued'),
        finishedAt: Date.now(),
      })
      await sleep(Math.max(0, Date.parse(env.deadline) - Date.now() + 50))
      const [record, ended] = await Promise.all([gateway.cancel(env.runId), pass.pass()])
      assert.equal(record.status, 'cancelled')
      assert.equal(ended, 0)
      assert.deepEqual(pass.expired, [])
      assert.equal(await queue.getJob(env.runId), undefined, 'its job is gone')
      assert.equal(await client.zcard(keys.cancelledIndex), 1)
      assert.equal(await client.zcard(keys.deadlines), 0)
      await laterWorkerSkips(env.runId)
    } finally {
      await pass.close()
      await close()
    }
  })
})

void describe('a run that ends for good forgets its takes not run (sy-unrun)', { skip }, () => {
  void test('cancelled while queued, after a worker handed it back once', async () => {
    const { gateway, client, keys, queued, close } = await rig()
    try {
      const env = await queued()
      // What a worker's hand-back counts (redis-run-source.ts handBack) before the run goes back.
      await countUnrun(client, keys, env.runId, 1)
      assert.equal((await gateway.cancel(env.runId)).status, 'cancelled')
      assert.equal(await client.hexists(keys.unrun, env.runId), 0)
    } finally {
      await close()
    }
  })

  /** A job taken once by hand and handed back unrun (counted, moved back), as a worker whose suspect held its process does. */
  async function handedBackOnce(url: string, prefix: string, queue: Queue, keys: PoolKeys, lockDuration?: number) {
    const client = await queue.client
    const job = await queue.add('run', { deadline: new Date(Date.now() + 60_000).toISOString() }, { jobId: randomUUID() })
    const runId = job.id ?? ''
    const taker = new Worker(QUEUE, null, { connection: { url }, prefix, ...(lockDuration ? { lockDuration } : {}) })
    const take = async (token: string) => {
      const taken = (await taker.getNextJob(token)) as Job | undefined
      assert.equal(taken?.id, runId)
      return taken
    }
    return { runId, client, taker, take }
  }

  void test('refused by the worker after it was handed back once', async () => {
    const { url, prefix, queue, keys, close } = await rig()
    const { runId, client, taker, take } = await handedBackOnce(url, prefix, queue, keys)
    const source = redisRunSource(POOL, { url, prefix, heartbeat: false })
    try {
      const first = await take('a:1')
      await countUnrun(client, keys, runId, 1)
      await first?.moveToWait('a:1')
      await taker.close()
      source.start(
        async () => ({ ok: false, refused: true, error: { code: 'WORKER_LOST', message: 'refused: past its deadline', retryable: false } }),
        {
          concurrency: 1,
        },
      )
      await eventually('the run failed', async () => (await queue.getJobState(runId)) === 'failed', 10_000)
      await eventually('its unrun count forgotten', async () => (await client.hexists(keys.unrun, runId)) === 0, 5000)
    } finally {
      await source.close()
      await taker.close()
      await close()
    }
  })

  void test("failed by BullMQ's stall limit (its lock expired), never run", async () => {
    const { url, prefix, queue, keys, close } = await rig()
    const { runId, client, taker, take } = await handedBackOnce(url, prefix, queue, keys, 300)
    let ran = 0
    try {
      // Taken and counted not run, then its taker goes silent: its lock expires unrenewed.
      await take('a:1')
      await countUnrun(client, keys, runId, 1)
      await taker.close()
      // maxCrashes 1: no stall allowed (maxStalledCount 0), so the stalled check fails it when it is next taken.
      const source = redisRunSource(POOL, { url, prefix, heartbeat: false, maxCrashes: 1, stalledIntervalMs: 200 })
      source.start(
        async () => {
          ran += 1
          return { ok: true, output: null }
        },
        { concurrency: 1 },
      )
      try {
        await eventually('the run failed', async () => (await queue.getJobState(runId)) === 'failed', 15_000)
        assert.match((await queue.getJob(runId))?.failedReason ?? '', /stalled more than allowable limit/)
        await eventually('its unrun count forgotten', async () => (await client.hexists(keys.unrun, runId)) === 0, 5000)
        assert.equal(ran, 0)
      } finally {
        await source.close()
      }
    } finally {
      await taker.close()
      await close()
    }
  })
})

void test(
  'an admission whose gateway died before its add: one pass past the admission bound drops it from both sets; a fresh one stays',
  { skip },
  async () => {
    const { gateway, client, keys, close } = await rig({ expire: true })
    try {
      const [seconds, micros] = await (client as unknown as { time(): Promise<[string, string]> }).time()
      const redisNow = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000)
      const redis = commands(client)
      // ADMIT's bound here: the gateway's commandTimeoutMs (10 s) + 5 s.
      const orphan = `orphan-${randomUUID().slice(0, 8)}`
      const fresh = `fresh-${randomUUID().slice(0, 8)}`
      await redis.zadd(keys.admitting, redisNow - 60_000, orphan)
      await redis.zadd(keys.deadlines, Date.now() - 30_000, orphan)
      await redis.zadd(keys.admitting, redisNow, fresh)
      await redis.zadd(keys.deadlines, Date.now() - 1000, fresh)
      assert.equal(await gateway.expireNow(), 0)
      assert.equal(await client.zscore(keys.deadlines, orphan), null, 'gone from the deadlines')
      assert.equal(await client.zscore(keys.admitting, orphan), null, 'gone from the admissions')
      assert.notEqual(await client.zscore(keys.deadlines, fresh), null, 'an admission in progress is looked at again')
      assert.notEqual(await client.zscore(keys.admitting, fresh), null)
    } finally {
      await close()
    }
  },
)
