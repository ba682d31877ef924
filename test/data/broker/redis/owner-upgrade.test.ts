// Idempotency keys scoped per owner, on a Redis that a broker from before owners wrote to.
// Such a broker left claims under `sy-idem:<workflow>:<key>` ({runId, fingerprint, at},
// PX retainMs: the ADMIT script before this change) and runs with no owner key. After the
// upgrade: no such run is lost (it is read, waited for and listed as before, its owner
// null); a retry of the anonymous caller (a gateway without tokens, the only caller then
// and now) still finds its run by the old claim, so it does not run twice; a token's
// caller never does (the claim may be another caller's), and gets a run of its own.
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { SwitchyardError } from '../../../../src/control/index.js'
import { idempotencyFingerprint } from '../../../../src/data/index.js'
import { redisPerFile } from '../../../helpers/redis-per-file.js'
import { startOnRedis, workEnvelope } from '../../../helpers/redis-work-pool.js'

const { skip, server } = redisPerFile()

const envelope = (key: string | null, input?: unknown) => workEnvelope('ou', key, input)

void test(
  'claims and runs from before owners: none lost, the anonymous caller dedupes on them, a token never finds them',
  { skip },
  async () => {
    const retainFailedMs = 3_600_000
    const executions = new Map<string, number>()
    const { broker, client, keys, close } = await startOnRedis({
      url: server().url,
      tag: 'ou',
      broker: { retainFailedMs },
      handler: async (delivery) => {
        const runId = delivery.runId ?? ''
        executions.set(runId, (executions.get(runId) ?? 0) + 1)
        return { ok: true, output: { ran: runId } }
      },
      concurrency: 2,
    })
    try {
      // Every run now has an owner key, kept at least as long as the run's job may be.
      const fresh = envelope(null)
      await broker.submit(fresh, { owner: 't-fresh' })
      assert.equal(await client.call('GET', keys.owner(fresh.runId)), 't-fresh')
      assert.ok(Number(await client.call('PTTL', keys.owner(fresh.runId))) > retainFailedMs)

      // A run of the old broker: its job as ever, no owner key, and its key's claim in the old layout.
      const old = envelope('order-42')
      await broker.submit(old)
      await client.call('DEL', keys.owner(old.runId), keys.idempotency('anonymous', old.workflow, 'order-42'))
      const claim = JSON.stringify({ runId: old.runId, fingerprint: idempotencyFingerprint(old), at: Date.now() })
      await client.call('SET', keys.legacyIdempotency(old.workflow, 'order-42'), claim, 'PX', '60000')
      assert.equal((await broker.wait(old.runId, { until: Date.now() + 20_000 })).status, 'succeeded')
      const finished = await broker.get(old.runId)
      assert.ok(finished)
      // Not lost: read, waited for, listed as before; its owner is not known.
      assert.deepEqual([finished.status, finished.owner, finished.output], ['succeeded', null, { ran: old.runId }])
      assert.equal((await broker.list({ workflow: 'contract.echo' })).find((r) => r.runId === old.runId)?.owner, null)

      // The anonymous caller's retry finds it: not run twice. Another input is a conflict naming it.
      assert.deepEqual(await broker.submit(envelope('order-42')), { runId: old.runId, deduped: true })
      await assert.rejects(broker.submit(envelope('order-42', { order: 43 })), (error: unknown) => {
        assert.ok(error instanceof SwitchyardError)
        assert.equal(error.code, 'IDEMPOTENCY_CONFLICT')
        assert.match(error.message, new RegExp(old.runId))
        return true
      })
      assert.equal(executions.get(old.runId), 1)

      // A token's caller with the same key and input: a run of its own, never the old one.
      const token = envelope('order-42')
      assert.deepEqual(await broker.submit(token, { owner: 't-other' }), { runId: token.runId, deduped: false })
      const own = await broker.wait(token.runId, { until: Date.now() + 20_000 })
      assert.deepEqual([own.status, own.owner, own.output], ['succeeded', 't-other', { ran: token.runId }])
      assert.equal(executions.get(old.runId), 1)
    } finally {
      await close()
    }
  },
)
