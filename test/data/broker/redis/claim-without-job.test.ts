// Issue 13.1 at its root: an idempotency claim must never answer for a run that was not
// queued. A gateway that took a key's claim and died before BullMQ's add() (or whose add
// was lost with Redis) leaves a claim with no job. A retry with that key is refused as
// retryable (503) while the first add could still land, and then gets a run that exists
// and runs — never the id of a run nobody will ever find (the 404 that lost 121 of 200).
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { SwitchyardError } from '../../../../src/control/index.js'
import { admit } from '../../../../src/data/broker/redis/scripts.js'
import { ANONYMOUS_OWNER } from '../../../../src/data/broker/index.js'
import { idempotencyFingerprint } from '../../../../src/data/index.js'
import { redisPerFile } from '../../../helpers/redis-per-file.js'
import { startOnRedis, workEnvelope } from '../../../helpers/redis-work-pool.js'

const { skip, server } = redisPerFile()

const envelope = (key: string) => workEnvelope('cw', key)

void test(
  'a claim whose job never came: the retry is 503 while the add could still land, then a new run that exists and runs',
  { skip },
  async () => {
    // commandTimeoutMs bounds how long an add may take: a claim older than that plus 5 s is abandoned.
    const commandTimeoutMs = 500
    const { broker, queue, keys, close } = await startOnRedis({
      url: server().url,
      tag: 'cw',
      broker: { commandTimeoutMs },
      handler: async () => ({ ok: true, output: { ran: true } }),
    })
    try {
      // The dead gateway: its admission (claim taken, place held) went through, its add() never did.
      const ghost = envelope('order-42')
      const admitted = await admit(await queue.client, {
        keys,
        runId: ghost.runId,
        maxQueued: 1000,
        needWorker: false,
        idempotency: {
          key: keys.idempotency(ANONYMOUS_OWNER, ghost.workflow, 'order-42'),
          fingerprint: idempotencyFingerprint(ghost),
          legacy: null,
        },
        owner: ANONYMOUS_OWNER,
        ownerTtlMs: 60_000,
        claimTtlMs: 60_000,
        pendingMs: commandTimeoutMs + 5000,
        admitTtlMs: commandTimeoutMs + 5000,
        deadlineMs: Date.parse(ghost.deadline),
      })
      assert.deepEqual(admitted, { kind: 'ok' })
      const claimedAt = Date.now()

      // The client retries with its key: not "queued" with the ghost's id (a run that does not exist).
      const retry = envelope('order-42')
      await assert.rejects(broker.submit(retry), (error: unknown) => {
        assert.ok(error instanceof SwitchyardError)
        assert.equal(error.code, 'BROKER_UNAVAILABLE')
        assert.equal(error.retryable, true)
        assert.match(error.message, new RegExp(`still queueing run ${ghost.runId}`))
        return true
      })
      assert.equal(await broker.get(ghost.runId), null)

      // Once the ghost's add can no longer land, the key takes a new run, which is queued and runs.
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, claimedAt + commandTimeoutMs + 5000 + 100 - Date.now())))
      const later = envelope('order-42')
      const result = await broker.submit(later)
      assert.deepEqual(result, { runId: later.runId, deduped: false })
      const record = await broker.wait(later.runId, { until: Date.now() + 20_000 })
      assert.equal(record.status, 'succeeded')
      assert.deepEqual(record.output, { ran: true })
      // And from now on the key names that run.
      assert.deepEqual(await broker.submit(envelope('order-42')), { runId: later.runId, deduped: true })
    } finally {
      await close()
    }
  },
)
