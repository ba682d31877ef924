// With Redis unreachable, RedisBroker.connect() gives up after its bound, having said
// each queue's error once (ioredis retries every second or so), then one summary line.
import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import { test } from 'node:test'

import { RedisBroker } from '../../../../src/data/broker/redis/index.js'
import { contractRegistry } from '../broker.contract.js'

/** A loopback port nothing listens on (taken, then released). */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

void test('Redis unreachable: one warning per queue and URL, a summary, then BROKER_UNAVAILABLE', async () => {
  const port = await closedPort()
  const url = `redis://127.0.0.1:${port}`
  const warnings: string[] = []
  await assert.rejects(RedisBroker.connect({ registry: contractRegistry(), url, commandTimeoutMs: 2500, warn: (m) => warnings.push(m) }), {
    code: 'BROKER_UNAVAILABLE',
    message: `Redis at ${url} did not answer within 2500 ms`,
  })
  const queues = [...contractRegistry().pools.keys()].map((pool) => `switchyard.${pool}`).sort()
  const firsts = warnings.slice(0, queues.length)
  const [summary, ...rest] = warnings.slice(queues.length)
  assert.deepEqual(
    firsts.sort(),
    queues.map(
      (queue) => `Redis queue ${queue} at ${url}: connect ECONNREFUSED 127.0.0.1:${port} (repeats are not shown until it reconnects)`,
    ),
  )
  assert.match(summary ?? '', /^Redis: \d+ more errors? from [1-3] queues? were not shown$/)
  // close() after giving up may see a few more errors: none of them is printed.
  assert.deepEqual(rest, [])
})
