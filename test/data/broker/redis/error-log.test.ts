// Redis errors said once per connection while it is down, everything else every time
// (error-log.ts). A connection that stays up never says `ready` again: an error it reports
// (a lock lost, a script refused) must not be held back behind one said before.
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { RedisErrorLog, connectionError } from '../../../../src/data/broker/redis/error-log.js'

function socketError(code: string): Error {
  return Object.assign(new Error(`connect ${code} 127.0.0.1:6379`), { code })
}

void test('a lost connection is said once until it is back; any other error every time', () => {
  const said: string[] = []
  const log = new RedisErrorLog((message) => said.push(message))
  const other = (error: Error) => said.push(`other: ${error.message}`)
  const url = 'redis://:secret@127.0.0.1:6379'

  for (let i = 0; i < 5; i++) log.reportConnection('q (its worker)', url, socketError('ECONNREFUSED'), other)
  log.reportConnection('q (its worker)', url, new Error('Connection is closed.'), other)
  log.reportConnection('q (its worker)', url, new Error('Missing lock for job 1. moveToFinished'), other)
  log.reportConnection('q (its worker)', url, new Error('Missing lock for job 2. moveToFinished'), other)
  assert.deepEqual(said, [
    'Redis queue q (its worker) at redis://:***@127.0.0.1:6379: connect ECONNREFUSED 127.0.0.1:6379 (repeats are not shown until it reconnects)',
    'other: Missing lock for job 1. moveToFinished',
    'other: Missing lock for job 2. moveToFinished',
  ])
  assert.equal(log.summary(), 'Redis: 5 more errors from 1 queue were not shown')

  // Back, then down again: said again.
  log.reconnected('q (its worker)', url)
  log.reportConnection('q (its worker)', url, socketError('ECONNRESET'), other)
  assert.equal(said.length, 4)
  assert.match(said[3] ?? '', /ECONNRESET/)
})

void test('what counts as a lost connection', () => {
  for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'EPIPE', 'ENOTFOUND'])
    assert.equal(connectionError(socketError(code)), true, code)
  assert.equal(connectionError(new Error('Connection is closed.')), true)
  // Refused as it opens: ioredis tries again, and it repeats at every try.
  assert.equal(connectionError(new Error('WRONGPASS invalid username-password pair or user is disabled.')), true)
  assert.equal(connectionError(new Error('ERR max number of clients reached')), true)
  // A command refused on a connection that stays up: said every time.
  assert.equal(connectionError(new Error("NOPERM User pool-work has no permissions to run the 'flushall' command")), false)
  assert.equal(connectionError(Object.assign(new Error('NOSCRIPT No matching script'), { name: 'ReplyError' })), false)
  assert.equal(connectionError(new Error('Missing lock for job 1. moveToFinished')), false)
})
