// The MemoryBroker under the shared broker contract, plus what only it does.
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { MemoryBroker, linkChild } from '../../../../src/data/broker/memory/index.js'
import { brokerContract, contractRegistry } from '../broker.contract.js'
import { forkIpcConsumer } from '../fixtures/child-consumer.js'

brokerContract('memory', async () => {
  const registry = contractRegistry()
  const broker = new MemoryBroker({ pools: registry.pools.values(), retryDelayMs: 10 })
  return {
    broker,
    registry,
    source: (pool) => broker.source(pool),
    spawnConsumer: (pool) => forkIpcConsumer(pool, (child) => linkChild(child, broker.source(pool)).closed),
    close: () => broker.close(),
  }
})

void test('memory: ready() once every pool has a worker; stats() counts workers', async () => {
  const registry = contractRegistry()
  const broker = new MemoryBroker({ pools: registry.pools.values() })
  try {
    assert.equal(await broker.ready(), false)
    const sources = [...registry.pools.keys()].map((pool) => broker.source(pool))
    for (const source of sources) source.start(async () => ({ ok: true, output: null }), { concurrency: 1 })
    assert.equal(await broker.ready(), true)
    assert.deepEqual(
      (await broker.stats()).map((s) => [s.pool, s.workers]),
      [...registry.pools.keys()].map((pool) => [pool, 1]),
    )
    await sources[0]?.drain()
    assert.equal(await broker.ready(), false)
  } finally {
    await broker.close()
  }
})
