// A hostile pool writing only its own keys, under its own ACL user (SECURITY.md row 11),
// against the gateway's broker: nothing it writes speaks for another pool's runs. Its own
// events stream carries a `completed` and a `failed` event naming another pool's runs
// (waits.ts); its own `sy-cancelled:*` records claim another pool's name, workflow and run
// ids, and its own job key for another pool's run id is of the wrong type (redis-broker.ts
// locate, cancelledRecord). The attacker, pool `work`, comes first in registry order: the
// order locate once took as the answer. It also adds jobs of its own under another pool's
// run ids (unsigned, and a copy of that run's signed envelope): a restarted gateway's get and
// cancel still find the run the gateway signed for its pool.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { describe, test } from 'node:test'

import { Queue } from 'bullmq'

import { SwitchyardError } from '../../../../src/control/index.js'
import { RedisBroker, poolAclRules, producerAclRules, redisRunSource } from '../../../../src/data/broker/redis/index.js'
import { poolKeys } from '../../../../src/data/broker/redis/keys.js'
import { encodeRunError, stampResult } from '../../../../src/data/broker/redis/record.js'
import { generateSigningKey, signEnvelope, verifyKeysFor, type Envelope } from '../../../../src/data/index.js'
import { redisPerFile } from '../../../helpers/redis-per-file.js'
import { CONTRACT, contractRegistry, envelope } from '../broker.contract.js'

const { skip, server } = redisPerFile()

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

type Raw = { call(...args: (string | number)[]): Promise<unknown>; quit(): Promise<unknown> }

/** ACL users for the gateway and for pools `work` (the attacker) and `burst` (the victim), under `prefix`; their URLs. */
async function users(prefix: string): Promise<{ gateway: string; work: string; burst: string }> {
  const { url, port } = server()
  const admin = new Queue('admin', { connection: { url } })
  admin.on('error', () => undefined)
  const urls = { gateway: '', work: '', burst: '' }
  try {
    const client = (await admin.client) as unknown as Raw
    for (const [name, rules] of [
      ['gateway', producerAclRules(prefix)],
      ['work', poolAclRules('work', prefix)],
      ['burst', poolAclRules('burst', prefix)],
    ] as const) {
      const user = `${prefix}-${name}`
      await client.call('ACL', 'SETUSER', user, 'on', `>${user}-pw`, ...rules)
      urls[name] = `redis://${user}:${user}-pw@127.0.0.1:${port}`
    }
  } finally {
    await admin.close()
  }
  return urls
}

/** A raw connection as a pool's user, to write what that pool's worker could write. */
async function rawAs(url: string, prefix: string, pool: string): Promise<{ client: Raw; close(): Promise<void> }> {
  const queue = new Queue(`switchyard.${pool}`, { connection: { url }, prefix })
  queue.on('error', () => undefined)
  return { client: (await queue.client) as unknown as Raw, close: () => queue.close() }
}

void describe("a pool's Redis data never speaks for another pool's runs", { skip }, () => {
  void test("a completed or failed event a pool adds to its own stream, naming another pool's runs, settles neither wait: each ends with its own worker's result", async () => {
    const prefix = `forge-${randomUUID().slice(0, 8)}`
    const url = await users(prefix)
    const registry = contractRegistry()
    const warnings: string[] = []
    const broker = await RedisBroker.connect({ registry, url: url.gateway, prefix, warn: (m) => warnings.push(m) })
    const attacker = await rawAs(url.work, prefix, 'work')
    const victim = redisRunSource('burst', { url: url.burst, prefix, warn: () => undefined })
    try {
      // A run of the attacker's pool: the gateway listens to its events from now on.
      await broker.submit(envelope(registry, CONTRACT.workflows.echo, { mode: 'echo', value: 'mine' }), { async: true })
      // The victim's runs, queued with no worker yet.
      const runs: Envelope[] = [1, 2].map((n) => envelope(registry, CONTRACT.workflows.burst, { mode: 'echo', value: n }))
      for (const run of runs) await broker.submit(run, { async: true })
      const waits = runs.map((run) => broker.wait(run.runId, { until: Date.now() + 20_000 }))
      // The pool's user cannot read the victim's keys, but it can write its own stream.
      await assert.rejects(attacker.client.call('GET', poolKeys(prefix, 'switchyard.burst').job(runs[0]!.runId)), /NOPERM/)
      const stamp = { startedAt: 1, finishedAt: 2, attempts: 1 }
      const events = `${prefix}:switchyard.work:events`
      const forged = JSON.stringify(stampResult({ forged: 'by pool work' }, stamp))
      await attacker.client.call(
        'XADD',
        events,
        '*',
        'event',
        'completed',
        'jobId',
        runs[0]!.runId,
        'returnvalue',
        forged,
        'prev',
        'active',
      )
      const lie = encodeRunError({ code: 'GRAPH_FAILED', message: 'forged by pool work: call 555-0100', retryable: false }, stamp)
      await attacker.client.call('XADD', events, '*', 'event', 'failed', 'jobId', runs[1]!.runId, 'failedReason', lie, 'prev', 'active')
      await attacker.client.call('XADD', events, '*', 'event', 'removed', 'jobId', runs[1]!.runId, 'prev', 'waiting')
      // Time for the gateway's listener to read them (an XREAD away) before the victim's worker runs anything.
      await sleep(500)
      victim.start(async (delivery) => ({ ok: true, output: { real: (delivery.raw as Envelope).input } }), { concurrency: 2 })
      const records = await Promise.all(waits)
      for (const [i, record] of records.entries()) {
        assert.equal(record.status, 'succeeded', `run ${i + 1}: ${JSON.stringify(record)}`)
        assert.equal(record.pool, CONTRACT.pools.burst)
        assert.deepEqual(record.output, { real: { mode: 'echo', value: i + 1 } })
      }
    } finally {
      await victim.close()
      await attacker.close()
      await broker.close()
    }
  })

  void test("a pool's own cancelled-run records are shown as its own runs of its own workflows only, and never stand in for another pool's run", async () => {
    const prefix = `forge-${randomUUID().slice(0, 8)}`
    const url = await users(prefix)
    const registry = contractRegistry()
    const warnings: string[] = []
    const connect = () => RedisBroker.connect({ registry, url: url.gateway, prefix, warn: (m) => warnings.push(m) })
    let broker = await connect()
    // Real queued runs of the victim's pool, and one of the attacker's own.
    const victims = [1, 2].map((n) => envelope(registry, CONTRACT.workflows.burst, { mode: 'echo', value: n }))
    for (const run of victims) await broker.submit(run, { async: true })
    const own = envelope(registry, CONTRACT.workflows.echo, { mode: 'echo', value: 'own' })
    await broker.submit(own, { async: true })
    // And one the victim's caller cancelled while queued: its record is all that is left of it.
    const ended = envelope(registry, CONTRACT.workflows.burst, { mode: 'echo', value: 3 })
    await broker.submit(ended, { async: true })
    assert.equal((await broker.cancel(ended.runId)).status, 'cancelled')
    await broker.close()

    const attacker = await rawAs(url.work, prefix, 'work')
    const keys = poolKeys(prefix, 'switchyard.work')
    const record = (runId: string, workflow: string, status: string) =>
      JSON.stringify({
        runId,
        workflow,
        pool: CONTRACT.pools.burst,
        status,
        output: { forged: true },
        attempts: 1,
        maxAttempts: 1,
        createdAt: Date.now(),
        deadline: '',
        traceId: null,
        idempotencyKey: null,
        owner: 'token.victim',
      })
    const plant = async (id: string, text: string) => {
      await attacker.client.call('SET', keys.cancelled(id), text)
      await attacker.client.call('ZADD', keys.cancelledIndex, Date.now(), id)
    }
    const [first, second] = victims as [Envelope, Envelope]
    // Another pool's run id, with that pool's name and workflow.
    await plant(first.runId, record(first.runId, CONTRACT.workflows.burst, 'succeeded'))
    // Ids of no real run: another pool's workflow; a status no run ended while queued has; not JSON.
    await plant('forged-1', record('forged-1', CONTRACT.workflows.burst, 'cancelled'))
    await plant('forged-2', record('forged-2', CONTRACT.workflows.echo, 'succeeded'))
    await plant('forged-3', '{not json')
    // One of its own workflows, claiming another pool's name and another run's id: listed, as the attacker's own.
    await plant('forged-4', record(second.runId, CONTRACT.workflows.echo, 'cancelled'))
    // A key of its own under the victim's other run id, of a type no job has.
    await attacker.client.call('SET', keys.job(second.runId), 'junk')
    await attacker.client.call('SET', keys.job(ended.runId), 'junk')
    // Its own run's owner key, of the wrong type: its own run is unreadable, and says so without Redis's words.
    await attacker.client.call('DEL', keys.owner(own.runId))
    await attacker.client.call('HSET', keys.owner(own.runId), 'x', '1')
    await attacker.close()

    // A restarted gateway: nothing remembered of where runs are.
    broker = await connect()
    try {
      for (const run of victims) {
        const read = await broker.get(run.runId)
        assert.equal(read?.pool, CONTRACT.pools.burst, JSON.stringify(read))
        assert.equal(read.status, 'queued')
        assert.equal(read.workflow, CONTRACT.workflows.burst)
        assert.equal(read.output, undefined)
      }
      const cancelled = await broker.get(ended.runId)
      assert.deepEqual(cancelled && [cancelled.pool, cancelled.status], [CONTRACT.pools.burst, 'cancelled'])
      for (const id of ['forged-1', 'forged-2', 'forged-3']) assert.equal(await broker.get(id), null, id)
      const listed = await broker.list({ limit: 100 })
      const rows = listed.map((r) => `${r.runId} ${r.pool} ${r.workflow} ${r.status}`)
      for (const r of listed) {
        assert.equal(registry.workflows.get(r.workflow)?.pool, r.pool, `listed as another pool's: ${rows.join(', ')}`)
      }
      assert.deepEqual(
        listed
          .filter((r) => r.pool === CONTRACT.pools.burst)
          .map((r) => `${r.runId} ${r.status}`)
          .sort(),
        [`${first.runId} queued`, `${second.runId} queued`, `${ended.runId} cancelled`].sort(),
      )
      const planted = listed.find((r) => r.runId === 'forged-4')
      assert.deepEqual(planted && [planted.pool, planted.workflow, planted.status], [
        CONTRACT.pools.work,
        CONTRACT.workflows.echo,
        'cancelled',
      ])
      assert.equal(listed.filter((r) => r.runId === second.runId).length, 1, rows.join(', '))
      // Each skipped record is said once, however often it is read.
      for (const id of ['forged-1', 'forged-2', 'forged-3', first.runId]) {
        assert.equal(warnings.filter((w) => w.includes(`run ${JSON.stringify(id)}`)).length, 1, `${id}: ${warnings.join(' | ')}`)
      }
      await assert.rejects(broker.get(own.runId), (error: unknown) => {
        assert.ok(error instanceof SwitchyardError)
        assert.equal(error.code, 'BROKER_UNAVAILABLE')
        assert.doesNotMatch(error.message, /WRONGTYPE/)
        return true
      })
      assert.ok(
        warnings.some((w) => /WRONGTYPE/.test(w)),
        warnings.join(' | '),
      )
    } finally {
      await broker.close()
    }
  })
  void test("a job a pool adds under another pool's run id is not that run: a restarted gateway finds the job it signed for the run's pool", async () => {
    const prefix = `forge-${randomUUID().slice(0, 8)}`
    const url = await users(prefix)
    const registry = contractRegistry()
    const key = generateSigningKey()
    const connect = () => RedisBroker.connect({ registry, url: url.gateway, prefix, verifyKeys: verifyKeysFor(key), warn: () => undefined })
    let broker = await connect()
    const victims = [1, 2].map((n) => signEnvelope(envelope(registry, CONTRACT.workflows.burst, { mode: 'echo', value: n }), key))
    for (const run of victims) await broker.submit(run, { async: true })
    await broker.close()

    // The attacker's own queue, as its user: BullMQ's add, a job under each victim's id.
    const attacker = new Queue('switchyard.work', { connection: { url: url.work }, prefix })
    attacker.on('error', () => undefined)
    const [first, second] = victims as [Envelope, Envelope]
    try {
      const forged = { ...envelope(registry, CONTRACT.workflows.echo, { mode: 'echo', value: 'forged' }), runId: first.runId }
      await attacker.add(CONTRACT.workflows.echo, forged, { jobId: first.runId })
      // A copy of the victim's envelope, signature and all, naming the victim's pool: not signed for this one.
      await attacker.add(CONTRACT.workflows.burst, second, { jobId: second.runId })
    } finally {
      await attacker.close()
    }

    for (const run of victims) {
      // A restarted gateway each time: nothing remembered of where runs are.
      broker = await connect()
      try {
        const read = await broker.get(run.runId)
        assert.deepEqual(read && [read.pool, read.workflow, read.status], [CONTRACT.pools.burst, CONTRACT.workflows.burst, 'queued'])
        assert.deepEqual(read?.input, run.input)
      } finally {
        await broker.close()
      }
      broker = await connect()
      try {
        const cancelled = await broker.cancel(run.runId)
        assert.deepEqual([cancelled.pool, cancelled.status], [CONTRACT.pools.burst, 'cancelled'])
      } finally {
        await broker.close()
      }
    }
  })
})
