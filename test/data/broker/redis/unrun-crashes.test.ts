// A take that did not run a run is not a crash of it. BullMQ raises a job's
// attemptsStarted on every take, so a run a worker handed back unrun (a suspect held its
// process) and then took again looks, by BullMQ's counts alone, like a run whose worker
// died under it once already: one real crash later it would be dead-lettered
// WORKER_CRASHED at its first. The worker counts such takes in the pool's `sy-unrun`
// hash (crashes.ts) and the reaper leaves them out. Here on real BullMQ jobs, taken by
// hand as a worker takes them, and reaped as a dead worker's runs are.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { test } from 'node:test'

import { Queue, Worker, type Job } from 'bullmq'

import { commands } from '../../../../src/data/broker/redis/commands.js'
import { countUnrun, crashesOf } from '../../../../src/data/broker/redis/crashes.js'
import { poolKeys } from '../../../../src/data/broker/redis/keys.js'
import { reapWorker } from '../../../../src/data/broker/redis/reaper.js'
import { redisPerFile } from '../../../helpers/redis-per-file.js'

const { skip, server } = redisPerFile()

const QUEUE = 'switchyard.work'

/** A queue, a worker that takes jobs only by hand (no processor), and the pool's keys. */
async function rig() {
  const connection = { url: server().url }
  const prefix = `unrun-${randomUUID().slice(0, 8)}`
  const queue = new Queue(QUEUE, { connection, prefix })
  const taker = new Worker(QUEUE, null, { connection, prefix })
  const client = await queue.client
  const keys = poolKeys(prefix, QUEUE)
  /** Take the next job as a worker does, under `token`. */
  const take = async (token: string): Promise<Job> => {
    const job = (await taker.getNextJob(token)) as Job | undefined
    assert.ok(job, 'no job to take')
    return job
  }
  /** A worker that holds `job` under `token` dies: its lease is reaped as the supervisor reaps an exited child. */
  const die = async (job: Job, token: string) => {
    const worker = `w-${randomUUID().slice(0, 8)}`
    await commands(client).zadd(keys.workers, Date.now() + 60_000, worker)
    await client.hset(keys.leases(worker), { [job.id ?? '']: token })
    return reapWorker(
      client,
      { queue, keys, pool: 'work', maxCrashes: 2, warn: () => undefined },
      worker,
      'was killed by SIGKILL',
      'exited',
    )
  }
  const add = () => queue.add('run', { deadline: new Date(Date.now() + 60_000).toISOString() }, { jobId: randomUUID() })
  const close = async () => {
    await taker.close()
    await queue.close()
  }
  return { queue, client, keys, take, die, add, close }
}

void test('a run handed back unrun, then taken again, is not counted a crash: its first real one queues it again', { skip }, async () => {
  const { queue, client, keys, take, die, add, close } = await rig()
  try {
    const job = await add()
    const runId = job.id ?? ''
    // Taken, and handed back unrun (what redis-run-source.ts's handBack does).
    const first = await take('a:1')
    await countUnrun(client, keys, runId, 1)
    await first.moveToDelayed(Date.now(), 'a:1')
    await (await queue.getJob(runId))?.promote()
    // Taken again: BullMQ counts two starts and no outcome; ours, no crash.
    const second = await take('b:1')
    assert.equal(second.attemptsStarted - second.attemptsMade, 2, 'BullMQ counts the unrun take as a start')
    assert.equal(await crashesOf(client, keys, second, 1), 0, 'the take in flight and the unrun one are no crash')
    // Its worker dies under it: the first crash, so it goes back to the queue (maxCrashes 2).
    assert.equal(await die(second, 'b:1'), 1)
    assert.equal(await queue.getJobState(runId), 'waiting')
    const third = await take('c:1')
    assert.equal(await crashesOf(client, keys, third, 1), 1, 'one crash, counted once')
  } finally {
    await close()
  }
})

void test('without the unrun count, the same run is dead-lettered WORKER_CRASHED at its first crash', { skip }, async () => {
  // The control: what BullMQ's counts alone make of the same history (the reason for sy-unrun).
  const { queue, client, keys, take, die, add, close } = await rig()
  try {
    const job = await add()
    const runId = job.id ?? ''
    const first = await take('a:1')
    await first.moveToDelayed(Date.now(), 'a:1')
    await (await queue.getJob(runId))?.promote()
    const second = await take('b:1')
    assert.equal(await crashesOf(client, keys, second, 1), 1)
    assert.equal(await die(second, 'b:1'), 1)
    assert.equal(await queue.getJobState(runId), 'failed')
    const failed = await queue.getJob(runId)
    assert.match(failed?.failedReason ?? '', /WORKER_CRASHED/)
  } finally {
    await close()
  }
})
