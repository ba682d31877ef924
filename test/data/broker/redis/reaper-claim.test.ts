// The reaper's claim on a dead worker (scripts.ts CLAIM), on a real redis-server: with the
// gateway reaping every pool beside each live node worker of a pool and the supervisors,
// many reapers see the same expired heartbeat at once, and exactly one hands its runs on.
// A worker that beat again after a reaper listed it as expired (a pause of its beating
// thread) is not claimed by that reaper; a supervisor that saw the process go claims it
// whatever its heartbeat says. The run is a job a BullMQ Worker took through its public
// manual-processing API (getNextJob with a token), leased as workers lease (leases.json).
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { test } from 'node:test'

import { Queue, Worker } from 'bullmq'

import { queueName } from '../../../../src/control/index.js'
import { commands } from '../../../../src/data/broker/redis/commands.js'
import { connectionFor } from '../../../../src/data/broker/redis/connection.js'
import { poolKeys, type PoolKeys } from '../../../../src/data/broker/redis/keys.js'
import { reapWorker, startReaper } from '../../../../src/data/broker/redis/reaper.js'
import { redisPerFile } from '../../../helpers/redis-per-file.js'

const { skip, server } = redisPerFile()

interface Held {
  readonly queue: Queue
  readonly keys: PoolKeys
  readonly runId: string
  readonly worker: string
  close(): Promise<void>
}

/** A run taken by a BullMQ Worker and leased to `worker`, whose heartbeat expires at `expiresAt` (Redis ms). */
async function heldRun(url: string, prefix: string, expiresAt: number): Promise<Held> {
  const name = queueName('work')
  const keys = poolKeys(prefix, name)
  const queue = new Queue(name, { connection: connectionFor(url), prefix })
  const taker = new Worker(name, null, { connection: connectionFor(url), prefix, lockDuration: 60_000 })
  const runId = `claim-${randomUUID()}`
  await queue.add('w', { deadline: new Date(Date.now() + 60_000).toISOString() }, { jobId: runId, attempts: 3 })
  const token = `token-${randomUUID()}`
  const job = await taker.getNextJob(token)
  assert.equal(job?.id, runId)
  const worker = `elsewhere:4242:${randomUUID().slice(0, 8)}`
  const client = commands(await queue.client)
  await client.zadd(keys.workers, expiresAt, worker)
  await (await queue.client).hset(keys.leases(worker), { [runId]: token })
  return {
    queue,
    keys,
    runId,
    worker,
    async close() {
      await taker.close(true)
      await queue.close()
    },
  }
}

void test('of many reapers that find one expired worker at once, exactly one hands its run on, once', { skip }, async () => {
  const { url } = server()
  const held = await heldRun(url, `claim-${randomUUID().slice(0, 8)}`, 0)
  const extra: Queue[] = []
  try {
    // Six reapers, each on a connection of its own (as six processes would be), one pass each at the same moment.
    const reapers = Array.from({ length: 6 }, () => {
      const queue = new Queue(queueName('work'), { connection: connectionFor(url), prefix: held.queue.opts.prefix })
      extra.push(queue)
      return startReaper({ targets: [{ queue, keys: held.keys, pool: 'work' }], maxCrashes: 2, warn: (m) => assert.fail(m) })
    })
    const released = await Promise.all(reapers.map((reaper) => reaper.reap()))
    for (const reaper of reapers) reaper.stop()
    assert.deepEqual(
      released.toSorted((a, b) => b - a),
      [1, 0, 0, 0, 0, 0],
    )
    assert.equal(await held.queue.getJobState(held.runId), 'waiting')
    const redis = commands(await held.queue.client)
    assert.deepEqual(await redis.zmscore(held.keys.workers, held.worker), [null])
    assert.equal(await redis.exists(held.keys.leases(held.worker)), 0)
  } finally {
    await Promise.all(extra.map((queue) => queue.close()))
    await held.close()
  }
})

void test('a worker whose heartbeat is current is not claimed as expired; a supervisor that saw it go claims it', { skip }, async () => {
  const { url } = server()
  // Expires 30 s from now (Redis's clock is this machine's: the same host).
  const held = await heldRun(url, `claim-${randomUUID().slice(0, 8)}`, Date.now() + 30_000)
  try {
    const client = await held.queue.client
    const options = { queue: held.queue, keys: held.keys, pool: 'work', maxCrashes: 2, warn: (m: string) => assert.fail(m) }
    // As a reaper whose list said "expired" just before the worker beat again.
    assert.equal(await reapWorker(client, options, held.worker, 'stopped beating', 'expired'), 0)
    assert.equal(await held.queue.getJobState(held.runId), 'active')
    assert.equal((await commands(client).zmscore(held.keys.workers, held.worker))[0] !== null, true)
    // Its supervisor saw the process exit: its runs go back now.
    assert.equal(await reapWorker(client, options, held.worker, 'exited (its supervisor saw it go)', 'exited'), 1)
    assert.equal(await held.queue.getJobState(held.runId), 'waiting')
    // Claimed once: a second supervisor call finds nothing.
    assert.equal(await reapWorker(client, options, held.worker, 'exited', 'exited'), 0)
  } finally {
    await held.close()
  }
})

void test('a lease hash planted with far more runs than a worker holds costs a reaper one bounded pass', { skip }, async () => {
  const { url } = server()
  const held = await heldRun(url, `claim-${randomUUID().slice(0, 8)}`, 0)
  try {
    // What a hostile pool's user may write in its own keys: a dead "worker" holding 20,000 runs that do not exist.
    const client = await held.queue.client
    const planted = `planted:1:${randomUUID().slice(0, 8)}`
    const fields: Record<string, string> = {}
    for (let i = 0; i < 20_000; i += 1) fields[`fake-${i}`] = `token-${i}`
    await client.hset(held.keys.leases(planted), fields)
    await commands(client).zadd(held.keys.workers, 0, planted)
    const warnings: string[] = []
    const reaper = startReaper({
      targets: [{ queue: held.queue, keys: held.keys, pool: 'work' }],
      maxCrashes: 2,
      warn: (m) => warnings.push(m),
    })
    // One pass: the planted worker is claimed (at most 1000 of its leases looked at), and the real dead worker's run
    // is handed on in this pass or, past the pass's budget, the next.
    await reaper.reap()
    await reaper.reap()
    reaper.stop()
    assert.equal(await held.queue.getJobState(held.runId), 'waiting')
    assert.ok(
      warnings.some((m) => /holds 20000 leases, more than any worker runs at once/.test(m)),
      JSON.stringify(warnings),
    )
    assert.equal(await commands(client).exists(held.keys.leases(planted)), 0)
  } finally {
    await held.close()
  }
})
