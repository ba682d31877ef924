// A wait begun after a run this gateway submitted was ended in the queue (cancelled, or
// expired) returns that record at once. The run's final event ('removed', its job taken out
// of the queue) came before the wait, and the wait of a run this broker submitted relies on
// its final event, with only a rare poll behind it: it used to wait for that poll (2.5 s in
// the broker contract, whose cancel-racing-expiry test spent 50 s on it). Here the poll is an
// hour away: without the fix the wait outlives the test's timeout. Real Redis, real BullMQ.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { test } from 'node:test'

import { RedisBroker } from '../../../../src/data/broker/redis/index.js'
import { redisPerFile } from '../../../helpers/redis-per-file.js'
import { CONTRACT, contractRegistry, envelope } from '../broker.contract.js'

const { skip, server } = redisPerFile()
const HOUR = 3_600_000

void test(
  'a wait begun after its run was cancelled in the queue returns the record, not at the next poll',
  { skip, timeout: 60_000 },
  async () => {
    const registry = contractRegistry()
    const broker = await RedisBroker.connect({
      registry,
      url: server().url,
      prefix: `wa-${randomUUID().slice(0, 8)}`,
      pollMs: HOUR,
      expire: false,
    })
    try {
      const runs = Array.from({ length: 3 }, () => envelope(registry, CONTRACT.workflows.echo, { mode: 'echo', value: 'x' }))
      for (const env of runs) await broker.submit(env, { async: true })
      // One wait first, so the pool's queue events are being read before the cancels (as in a gateway that served a wait).
      const first = broker.wait(runs[0]!.runId, { until: Date.now() + HOUR })
      for (const env of runs) assert.equal((await broker.cancel(env.runId)).status, 'cancelled')
      assert.equal((await first).status, 'cancelled')
      for (const env of runs.slice(1)) {
        const record = await broker.wait(env.runId, { until: Date.now() + HOUR })
        assert.equal(record.status, 'cancelled')
        assert.equal(record.error?.code, 'CANCELLED')
      }
    } finally {
      await broker.close()
    }
  },
)
