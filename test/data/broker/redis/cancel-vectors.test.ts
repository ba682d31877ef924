// spec/vectors/cancel.json: the names and words of a cancel on Redis, which the gateway
// writes and every worker (node here, Python in python/tests/test_cancel.py) reads. The
// end-to-end proof that they meet is test/security/acl-cancel.test.ts (node and Python pools).
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'

import { queueName } from '../../../../src/control/index.js'
import { poolKeys } from '../../../../src/data/broker/redis/keys.js'
import { cancelledError } from '../../../../src/data/broker/run-errors.js'

interface CancelCase {
  readonly description: string
  readonly prefix: string
  readonly pool: string
  readonly runId: string
  readonly channel: string
  readonly cancels: string
  readonly message: string
  readonly error: { code: string; retryable: boolean; message: string }
  readonly whenQueued: string
}

const vectors = JSON.parse(readFileSync(new URL('../../../../spec/vectors/cancel.json', import.meta.url), 'utf8')) as {
  cases: CancelCase[]
}

void test('the cancel vectors hold for the gateway and the node worker', () => {
  assert.ok(vectors.cases.length >= 2)
  for (const v of vectors.cases) {
    const keys = poolKeys(v.prefix, queueName(v.pool))
    assert.equal(keys.cancelChannel, v.channel, v.description)
    assert.equal(keys.cancels, v.cancels, v.description)
    // The gateway publishes the run id itself; a worker compares it with its jobs' ids.
    assert.equal(v.message, v.runId, v.description)
    assert.deepEqual(cancelledError(v.runId, 'while running'), v.error, v.description)
    const signal = cancelledError(v.runId, 'while running', true)
    assert.deepEqual({ code: signal.code, retryable: signal.retryable, message: signal.message }, v.error, v.description)
    assert.equal(cancelledError(v.runId, 'while queued').message, v.whenQueued, v.description)
  }
})
