// No side door on Redis: a job put straight onto a pool's BullMQ queue, without
// route() and a valid signature, is refused by the pool worker: not run, not
// retried, dead-lettered with INVALID_ENVELOPE, and counted. Real Redis, the real
// RedisBroker, redisRunSource and pool worker.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { test } from 'node:test'

import { Queue } from 'bullmq'

import { RedisBroker, redisRunSource } from '../../../../src/data/broker/redis/index.js'
import { createWorker } from '../../../../src/data/worker/index.js'
import { generateSigningKey } from '../../../../src/data/index.js'
import { poolLive } from '../../../helpers/pool-live.js'
import { redisPerFile } from '../../../helpers/redis-per-file.js'
import { VERIFY, LONG, envelopeFor, fixtureRegistry } from '../../worker/worker-helpers.js'
import { sampleValue } from '../../../helpers/prometheus.js'

const { skip, server } = redisPerFile()

const quiet = Object.assign({ debug() {}, info() {}, warn() {}, error() {} }, { child: () => quiet })

interface SideDoorRig {
  registry: ReturnType<typeof fixtureRegistry>
  broker: RedisBroker
  worker: ReturnType<typeof createWorker>
  /** The pool's BullMQ queue, written to directly: what someone with write access to Redis could do. */
  sideDoor: Queue
}

/** A pool worker on its own Redis prefix, its broker and a raw BullMQ handle on its queue; drained and closed after body. */
async function withSideDoor(tag: string, body: (rig: SideDoorRig) => Promise<void>): Promise<void> {
  const { url } = server()
  const prefix = `${tag}-${randomUUID().slice(0, 8)}`
  const registry = fixtureRegistry()
  const broker = await RedisBroker.connect({ registry, url, prefix, backoffMs: 10 })
  const worker = createWorker({
    pool: 'work',
    registry,
    source: redisRunSource('work', { url, prefix }),
    verifyKeys: VERIFY,
    log: quiet,
    watchdogGraceMs: null,
  })
  const sideDoor = new Queue('switchyard.work', { connection: { url }, prefix })
  await worker.start()
  await poolLive(broker, 'work')
  try {
    await body({ registry, broker, worker, sideDoor })
  } finally {
    await worker.drain()
    await Promise.all([sideDoor.close(), broker.close()])
  }
}

void test("a job put straight on a pool's queue without a valid signature is refused, not run, and counted", { skip }, async () => {
  await withSideDoor('sd', async ({ registry, broker, worker, sideDoor }) => {
    // Through the front door: routed, signed, run.
    const good = envelopeFor(registry, 'work.echo', { hello: 'front door' })
    await broker.submit(good)
    assert.equal((await broker.wait(good.runId, { until: Date.now() + LONG })).status, 'succeeded')

    const unsigned = envelopeFor(registry, 'work.echo', { hello: 'side door' }, { key: null })
    const forged = envelopeFor(registry, 'work.echo', { hello: 'side door' }, { key: generateSigningKey() })
    const raised = { ...envelopeFor(registry, 'work.echo', { hello: 'side door' }), maxAttempts: 50 }
    const garbage = { runId: `g-${randomUUID()}`, workflow: 'work.echo', input: { hello: 'no envelope at all' } }
    const cases = [
      { data: unsigned as object, runId: unsigned.runId, message: 'missing signature' },
      { data: forged, runId: forged.runId, message: "which is not one of this worker's verify keys" },
      { data: raised, runId: raised.runId, message: 'signature does not match' },
      { data: garbage, runId: garbage.runId, message: 'invalid envelope: missing field v' },
    ]
    for (const c of cases) {
      // What someone with write access to the queue could do: BullMQ directly, retries included.
      await sideDoor.add('work.echo', c.data, { jobId: c.runId, attempts: 3, backoff: { type: 'fixed', delay: 10 } })
    }
    for (const c of cases) {
      const record = await broker.wait(c.runId, { until: Date.now() + LONG })
      assert.equal(record.status, 'failed', c.message)
      assert.equal(record.error?.code, 'INVALID_ENVELOPE')
      assert.match(record.error?.message ?? '', new RegExp(c.message))
      assert.equal(record.error?.retryable, false)
      assert.equal(record.attempts, 1, 'a refused envelope is not retried')
      assert.equal(record.deadLettered, true)
    }
    // Nothing of the side-door jobs ran: only the front-door run started a graph.
    const text = await worker.metrics.registry.metrics()
    assert.equal(sampleValue(text, 'switchyard_runs_started_total', { pool: 'work', workflow: 'work.echo' }), 1)
    assert.equal(sampleValue(text, 'switchyard_envelopes_rejected_total', { pool: 'work', reason: 'signature' }), 3)
    assert.equal(sampleValue(text, 'switchyard_envelopes_rejected_total', { pool: 'work', reason: 'malformed' }), 1)
  })
})

void test(
  'replay (issue 12.4): a genuine envelope re-queued under a new job id, or past its signed deadline with the attempt counter reset, is refused',
  { skip },
  async () => {
    await withSideDoor('rp', async ({ registry, broker, worker, sideDoor }) => {
      const genuine = envelopeFor(registry, 'work.echo', { hello: 'once' })
      await broker.submit(genuine)
      assert.equal((await broker.wait(genuine.runId, { until: Date.now() + LONG })).status, 'succeeded')
      // The same signed bytes, queued again under a job id of the attacker's choosing.
      const replayId = `replay-${randomUUID()}`
      await sideDoor.add('work.echo', genuine, { jobId: replayId, attempts: 3, backoff: { type: 'fixed', delay: 10 } })
      const replayed = await broker.wait(replayId, { until: Date.now() + LONG })
      assert.equal(replayed.status, 'failed')
      assert.equal(replayed.error?.code, 'INVALID_ENVELOPE')
      assert.match(replayed.error?.message ?? '', new RegExp(`signed for run ${genuine.runId} but queued as ${replayId} \\(a replay\\)`))
      assert.equal(replayed.attempts, 1, 'a replay is not retried')

      // A genuine envelope whose signed deadline has passed, put back with a fresh attempt counter.
      const expired = envelopeFor(
        registry,
        'work.echo',
        { hello: 'late' },
        { change: (plan) => ({ ...plan, deadline: new Date(Date.now() - 1000).toISOString() }) },
      )
      await sideDoor.add('work.echo', expired, { jobId: expired.runId, attempts: 5 })
      const late = await broker.wait(expired.runId, { until: Date.now() + LONG })
      assert.equal(late.status, 'failed')
      assert.equal(late.error?.code, 'DEADLINE_EXCEEDED')
      assert.equal(late.attempts, 1, 'the signed deadline wins: no attempt runs past it')

      const text = await worker.metrics.registry.metrics()
      assert.equal(
        sampleValue(text, 'switchyard_runs_started_total', { pool: 'work', workflow: 'work.echo' }),
        1,
        'only the genuine run started a graph',
      )
      assert.equal(sampleValue(text, 'switchyard_envelopes_rejected_total', { pool: 'work', reason: 'replay' }), 1)
      assert.equal(sampleValue(text, 'switchyard_envelopes_rejected_total', { pool: 'work', reason: 'deadline' }), 1)
    })
  },
)

void test(
  'replay (issue 12.4): a finished run re-queued under its own job id, within its deadline, is not executed again',
  { skip },
  async () => {
    await withSideDoor('fin', async ({ registry, broker, worker, sideDoor }) => {
      const genuine = envelopeFor(registry, 'work.echo', { hello: 'once' })
      await broker.submit(genuine)
      assert.equal((await broker.wait(genuine.runId, { until: Date.now() + LONG })).status, 'succeeded')
      // Once BullMQ has dropped the finished job, the same job id can be added again: it must not run.
      await sideDoor.remove(genuine.runId)
      await sideDoor.add('work.echo', genuine, { jobId: genuine.runId, attempts: 3 })
      const again = await broker.wait(genuine.runId, { until: Date.now() + LONG })
      assert.equal(again.status, 'failed')
      assert.equal(again.error?.code, 'INVALID_ENVELOPE')
      assert.match(again.error?.message ?? '', /already finished \(a replay\)/)
      const text = await worker.metrics.registry.metrics()
      assert.equal(sampleValue(text, 'switchyard_runs_started_total', { pool: 'work', workflow: 'work.echo' }), 1, 'the graph ran once')
      assert.equal(sampleValue(text, 'switchyard_envelopes_rejected_total', { pool: 'work', reason: 'replay' }), 1)
    })
  },
)
