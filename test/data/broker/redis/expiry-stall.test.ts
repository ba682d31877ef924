// A hostile pool cannot stall the gateway's expiry pass (src/data/broker/redis/expiry.ts) for
// the other pools of its Redis server (SECURITY.md row 11). Under its own ACL user, pool `work`
// plants queued jobs that BullMQ's Queue.remove refuses (a `<job>:lock` key on a job in its own
// `wait` list), each with a big `data` field and a deadline entry scored 0, and admissions with
// no job stamped far in the future. The pass, under the gateway's user, reads each planted job
// once and drops its entry (a queued job whose removal is refused is no run a worker holds),
// drops the future admissions, and ends the victim pool's due run without first working
// through the attacker's entries. Counts, not timings: HGETALL calls on this file's private Redis.
// A removal refused once for a run then handed back (Queue.remove wrapped to refuse once) still ends it.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { describe, test } from 'node:test'

import { Queue } from 'bullmq'

import { poolAclRules, producerAclRules } from '../../../../src/data/broker/redis/index.js'
import { startExpiry } from '../../../../src/data/broker/redis/expiry.js'
import { poolKeys } from '../../../../src/data/broker/redis/keys.js'
import { redisPerFile } from '../../../helpers/redis-per-file.js'

const { skip, server } = redisPerFile()

type Raw = { call(...args: (string | number)[]): Promise<unknown> }

const PLANTED = 20
const SIZE = 200_000

/** A rig: ACL users for the gateway and the attacker pool `work`, the gateway's queues of `work` and `burst`, an admin connection. */
async function rig() {
  const { url, port } = server()
  const prefix = `st-${randomUUID().slice(0, 8)}`
  const admin = new Queue('admin', { connection: { url } })
  const a = (await admin.client) as unknown as Raw
  const urls: Record<string, string> = {}
  for (const [name, rules] of [
    ['gateway', producerAclRules(prefix)],
    ['work', poolAclRules('work', prefix)],
  ] as const) {
    const user = `${prefix}-${name}`
    await a.call('ACL', 'SETUSER', user, 'on', `>${user}-pw`, ...rules)
    urls[name] = `redis://${user}:${user}-pw@127.0.0.1:${port}`
  }
  const gwWork = new Queue('switchyard.work', { connection: { url: urls.gateway! }, prefix })
  const gwBurst = new Queue('switchyard.burst', { connection: { url: urls.gateway! }, prefix })
  const attacker = new Queue('switchyard.work', { connection: { url: urls.work! }, prefix })
  const atk = (await attacker.client) as unknown as Raw
  const work = poolKeys(prefix, 'switchyard.work')
  const burst = poolKeys(prefix, 'switchyard.burst')
  /** HGETALL calls Redis served so far (every test of the file shares the server: deltas only). */
  const hgetalls = async () => Number(/cmdstat_hgetall:calls=(\d+)/.exec((await a.call('INFO', 'commandstats')) as string)?.[1] ?? 0)
  const ended: { pool: string; runId: string; attackerReadsThen: Promise<number> }[] = []
  const warnings: string[] = []
  const expiry = startExpiry({
    // The attacker first: a pass that works pools one after another reaches the victim last.
    targets: [
      { queue: gwWork, keys: work, pool: 'work' },
      { queue: gwBurst, keys: burst, pool: 'burst' },
    ],
    retainMs: 60_000,
    admissionMs: 15_000,
    expired: (pool, runId) => ended.push({ pool, runId, attackerReadsThen: hgetalls() }),
    warn: (message) => warnings.push(message),
  })
  expiry.stop()
  const close = async () => {
    await Promise.all([gwWork.close(), gwBurst.close(), attacker.close(), admin.close()])
  }
  return { a, atk, gwBurst, work, burst, hgetalls, ended, warnings, expiry, close }
}

void describe("a pool's planted entries do not stall the expiry pass", { skip }, () => {
  void test("queued jobs whose removal is refused (a planted lock) are read once, their entries dropped; the victim pool's due run ends in the same pass, before the attacker's are worked through", async () => {
    const { a, atk, gwBurst, work, burst, hgetalls, ended, warnings, expiry, close } = await rig()
    try {
      // The victim: one honest queued run past its deadline, in pool `burst`.
      const victim = randomUUID()
      await gwBurst.add(
        'contract.burst',
        { workflow: 'contract.burst', input: 1, deadline: new Date(Date.now() - 1).toISOString() },
        { jobId: victim },
      )
      await a.call('ZADD', burst.deadlines, Date.now() - 1, victim)
      // The attacker, under its own user: locked queued jobs with big data, their entries scored 0.
      const big = JSON.stringify({ workflow: 'contract.echo', input: 'x'.repeat(SIZE) })
      const planted: string[] = []
      for (let i = 0; i < PLANTED; i++) {
        const id = randomUUID()
        planted.push(id)
        await atk.call('HSET', work.job(id), 'name', 'contract.echo', 'data', big, 'opts', '{}', 'timestamp', Date.now(), 'attemptsMade', 0)
        await atk.call('LPUSH', work.wait, id)
        await atk.call('SET', `${work.job(id)}:lock`, 'planted')
        await atk.call('ZADD', work.deadlines, 0, id)
      }
      const before = await hgetalls()
      assert.equal(await expiry.pass(), 1, 'the pass ended the victim run')
      const afterFirst = await hgetalls()
      assert.deepEqual(
        ended.map(({ pool, runId }) => [pool, runId]),
        [['burst', victim]],
      )
      assert.equal(await gwBurst.getJobState(victim), 'unknown', "the victim's job is removed")
      // Its end did not wait for the attacker's entries: when it was counted, at most a few of them had been read.
      const readThen = (await ended[0]!.attackerReadsThen) - before
      assert.ok(readThen < PLANTED / 2, `the victim ended after ${readThen} job reads (${PLANTED} planted)`)
      assert.equal(await a.call('ZCARD', work.deadlines), 0, "the planted jobs' entries are dropped")
      for (const id of planted) assert.equal(await a.call('EXISTS', work.cancelled(id)), 0, `no record left for ${id}`)
      assert.equal(await expiry.pass(), 0)
      const afterSecond = await hgetalls()
      // Across two passes: each planted job read at most once (its record's input is the job's),
      // the victim's once.
      assert.ok(afterFirst - before <= PLANTED + 1, `first pass read ${afterFirst - before} jobs`)
      assert.equal(afterSecond - afterFirst, 0, 'the second pass reads no job')
      assert.deepEqual(warnings, [])
      // The planted jobs are the attacker's own, left as they are.
      assert.equal(await a.call('LLEN', work.wait), PLANTED)
    } finally {
      await close()
    }
  })

  void test('a removal refused while a worker held the run, which it then handed back to the queue: the pass tries once more and ends it (its entry is not dropped)', async () => {
    const { a, gwBurst, burst, ended, expiry, close } = await rig()
    const original = Queue.prototype.remove
    try {
      const runId = randomUUID()
      await gwBurst.add(
        'contract.burst',
        { workflow: 'contract.burst', input: 1, deadline: new Date(Date.now() - 1).toISOString() },
        { jobId: runId },
      )
      await a.call('ZADD', burst.deadlines, Date.now() - 1, runId)
      // BullMQ's answer for a job a worker holds, once: the worker took the run and handed it back in between.
      let refused = 0
      Queue.prototype.remove = async function () {
        Queue.prototype.remove = original
        refused += 1
        return 0
      }
      assert.equal(await expiry.pass(), 1)
      assert.equal(refused, 1)
      assert.deepEqual(
        ended.map(({ runId: id }) => id),
        [runId],
      )
      assert.equal(await gwBurst.getJobState(runId), 'unknown')
      assert.equal(await a.call('ZSCORE', burst.deadlines, runId), null)
    } finally {
      Queue.prototype.remove = original
      await close()
    }
  })

  void test('an admission with no job stamped far in the future (a planted one, or a clock gone wrong) is dropped as abandoned', async () => {
    const { a, atk, work, expiry, close } = await rig()
    try {
      const ids = [randomUUID(), randomUUID()]
      for (const id of ids) {
        await atk.call('ZADD', work.admitting, 9e15, id)
        await atk.call('ZADD', work.deadlines, 1, id)
      }
      // A fresh admission (stamped now, by Redis's clock as ADMIT stamps it) stays.
      const fresh = randomUUID()
      const [seconds] = (await a.call('TIME')) as [string, string]
      await atk.call('ZADD', work.admitting, Number(seconds) * 1000, fresh)
      await atk.call('ZADD', work.deadlines, 1, fresh)
      assert.equal(await expiry.pass(), 0)
      for (const id of ids) {
        assert.equal(await a.call('ZSCORE', work.admitting, id), null, `${id}: admission dropped`)
        assert.equal(await a.call('ZSCORE', work.deadlines, id), null, `${id}: deadline entry dropped`)
      }
      assert.notEqual(await a.call('ZSCORE', work.admitting, fresh), null, 'the fresh admission stays')
      assert.notEqual(await a.call('ZSCORE', work.deadlines, fresh), null)
    } finally {
      await close()
    }
  })
})
