// Which broker errors a wait asks Redis again after (waits.ts settle): only those that say
// Redis could not be asked. An answer Redis gave, an error or data that does not parse (a
// job hash a pool's user wrote), would come back the same: read again every 250 ms until the
// run's deadline, it costs Redis a read of the whole job four times a second for nothing.
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { SwitchyardError } from '../../../../src/control/index.js'
import { Unanswered, unreachable } from '../../../../src/data/broker/redis/connection.js'

function brokerError(cause: unknown): SwitchyardError {
  return new SwitchyardError('BROKER_UNAVAILABLE', 'reading run r failed', { cause, retryable: true })
}

function named(name: string, message: string): Error {
  const error = new Error(message)
  Object.defineProperty(error, 'name', { value: name })
  return error
}

void test('a wait asks again after Redis could not be asked, never after an answer', () => {
  const transient = [
    named('MaxRetriesPerRequestError', 'Reached the max retries per request limit (which is 0).'),
    new Unanswered('reading run r did not answer within 10000 ms'),
    new Error("Stream isn't writeable and enableOfflineQueue options is false"),
  ]
  const answers = [
    named('ReplyError', 'NOPERM this user has no permissions to run the hgetall command'),
    new SyntaxError('Unexpected token } in JSON at position 1'),
    new Error('Connection is closed.'),
  ]
  assert.deepEqual(
    transient.map((cause) => unreachable(brokerError(cause))),
    [true, true, true],
  )
  assert.deepEqual(
    answers.map((cause) => unreachable(brokerError(cause))),
    [false, false, false],
  )
  // Not the broker being unavailable at all: the run's own error, or a bare error.
  assert.equal(unreachable(new SwitchyardError('UNKNOWN_RUN', 'unknown run')), false)
  assert.equal(unreachable(new Error("Stream isn't writeable and enableOfflineQueue options is false")), false)
})
