// The MemoryBroker under the shared broker contract, plus what only it does.
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { MemoryBroker, linkChild } from '../../../../src/data/broker/memory/index.js'
import { CONTRACT, brokerContract, contractRegistry, envelope } from '../broker.contract.js'
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

void test('memory: finished runs are kept within keepFinishedBytes, oldest dropped first; the newest always stays', async () => {
  const registry = contractRegistry()
  const MB = 1024 ** 2
  const broker = new MemoryBroker({ pools: registry.pools.values(), keepFinishedBytes: 3 * MB })
  try {
    // The handler returns what the input asks for: a string of that many bytes.
    broker.source(CONTRACT.pools.work).start(
      async (delivery) => {
        const value = (delivery.raw as { input: { value: number } }).input.value
        return { ok: true, output: 'x'.repeat(value) }
      },
      { concurrency: 1 },
    )
    const ids: string[] = []
    for (let i = 0; i < 5; i++) {
      const env = envelope(registry, CONTRACT.workflows.echo, { mode: 'echo', value: MB })
      const { runId } = await broker.submit(env)
      const done = await broker.wait(runId, { until: Date.now() + 10_000 })
      assert.equal(done.status, 'succeeded')
      ids.push(runId)
    }
    const kept = await Promise.all(ids.map((id) => broker.get(id)))
    // 1 MB (and a little input) each: the newest two fit in 3 MB, the older three are gone.
    assert.deepEqual(
      kept.map((r) => r !== null),
      [false, false, false, true, true],
    )
    assert.equal(((await broker.get(ids[4]!))?.output as string).length, MB)
    // One output larger than the whole budget still stays readable, alone.
    const { runId: huge } = await broker.submit(envelope(registry, CONTRACT.workflows.echo, { mode: 'echo', value: 4 * MB }))
    await broker.wait(huge, { until: Date.now() + 10_000 })
    assert.equal(((await broker.get(huge))?.output as string).length, 4 * MB)
    assert.equal(await broker.get(ids[4]!), null)
    assert.equal((await broker.list()).length, 1)
  } finally {
    await broker.close()
  }
})
