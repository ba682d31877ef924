// A run for a pool nothing serves (a runtime: python pool on the embedded broker of
// `switchyard dev` on a machine without the Python worker) is refused at once with 503 + Retry-After, not left to time out (504).
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { MemoryBroker } from '../../src/data/broker/memory/index.js'
import { startGateway } from '../../src/gateway/index.js'
import { KEY, fixtureRegistry } from '../data/worker/worker-helpers.js'

void test('a run for an unserved python pool answers 503 with Retry-After; once a worker connects, the pool takes runs', async () => {
  const registry = fixtureRegistry()
  const broker = new MemoryBroker({ pools: registry.pools.values() })
  const gateway = await startGateway({ registry, broker, port: 0, tokens: null, signingKey: KEY })
  try {
    const refused = await fetch(`${gateway.url}/v1/workflows/py.hello/run`, {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json' },
    })
    assert.equal(refused.status, 503)
    assert.equal(refused.headers.get('retry-after'), '5')
    const problem = (await refused.json()) as Record<string, unknown>
    assert.equal(problem.code, 'POOL_UNAVAILABLE')
    assert.equal(
      problem.detail,
      "pool 'py' is unavailable: no worker serves it in this process: runtime python (python3 with switchyard_worker is not available: see the output of switchyard dev); retry later",
    )
    assert.deepEqual(await broker.list({ pool: 'py' }), [])

    // A consumer connected to the pool (an adapter serving it) makes it a pool like any other.
    const source = broker.source('py')
    source.start(async () => ({ ok: true, output: { hello: 'py' } }), { concurrency: 1 })
    const served = await fetch(`${gateway.url}/v1/workflows/py.hello/run`, {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json' },
    })
    assert.equal(served.status, 200)
    assert.deepEqual(await served.json(), { hello: 'py' })
    await source.close()
  } finally {
    await gateway.close()
    await broker.close()
  }
})
