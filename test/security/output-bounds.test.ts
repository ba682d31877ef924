// Issue 12.10: 5 MB outputs raised the gateway's RSS from 120 to 459 MB, and in `dev`
// (a 256 MB heap) the process died with every pool. Now an output is bounded where it is
// made (the pool's maxOutput, in the worker: OUTPUT_TOO_LARGE, 502), the embedded
// broker keeps finished runs within a byte budget, and lists carry no outputs.
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'

import { loadRegistry } from '../../src/control/index.js'
import { MemoryBroker } from '../../src/data/broker/memory/index.js'
import { generateSigningKey, verifyKeysFor } from '../../src/data/index.js'
import { createWorker, type PoolWorker } from '../../src/data/worker/index.js'
import { startGateway, type Gateway } from '../../src/gateway/index.js'
import { get, post } from '../gateway/fixture.js'

const REGISTRY = `
version: 1
pools:
  big: { concurrency: 2, timeout: 20s, retries: 2 }
  small: { maxOutput: 16kb, timeout: 20s, retries: 0 }
workflows:
  big.make: { pool: big, graph: graphs/make.mjs#graph, description: Returns n bytes., input: { type: object } }
  small.make: { pool: small, graph: graphs/make.mjs#graph, description: Returns n bytes., input: { type: object } }
`
// Besides the plain output: a hostile graph's tricks to answer the size check with one
// value and the serialisation after it with another (a getter; a change after it returned).
const GRAPH = `export function graph() {
  return (input) => {
    if (input.trick === 'getter') {
      let reads = 0
      const out = {}
      Object.defineProperty(out, 'text', { enumerable: true, get: () => (reads++ < 1 ? 'x' : 'x'.repeat(input.bytes)) })
      return out
    }
    if (input.trick === 'later') {
      const out = { text: 'x' }
      setImmediate(() => { out.text = 'x'.repeat(input.bytes) })
      return out
    }
    return { text: 'x'.repeat(input.bytes) }
  }
}
`
const MB = 1024 ** 2

let dir: string
let gateway: Gateway
let broker: MemoryBroker
let workers: PoolWorker[]
const KEY = generateSigningKey()

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'switchyard-output-bounds-'))
  mkdirSync(join(dir, 'graphs'))
  writeFileSync(join(dir, 'switchyard.yaml'), REGISTRY)
  writeFileSync(join(dir, 'graphs', 'make.mjs'), GRAPH)
  const registry = loadRegistry(join(dir, 'switchyard.yaml'))
  broker = new MemoryBroker({ pools: registry.pools.values(), keepFinishedBytes: 8 * MB })
  workers = ['big', 'small'].map((pool) =>
    createWorker({ pool, registry, source: broker.source(pool), verifyKeys: verifyKeysFor(KEY), watchdogGraceMs: null }),
  )
  for (const worker of workers) await worker.start()
  gateway = await startGateway({ registry, broker, port: 0, tokens: null, signingKey: KEY })
})

after(async () => {
  await gateway.close()
  for (const worker of workers) await worker.close()
  await broker.close()
  rmSync(dir, { recursive: true, force: true })
})

void test('a 5 MB output is a 502 OUTPUT_TOO_LARGE problem, tried once, and never reaches the broker', async () => {
  for (let i = 0; i < 10; i++) {
    const res = await post(`${gateway.url}/v1/workflows/big.make/run`, { bytes: 5 * MB })
    assert.equal(res.status, 502)
    const problem = res.body as { code: string; detail: string }
    assert.equal(problem.code, 'OUTPUT_TOO_LARGE')
    assert.match(problem.detail, /returned \d+ bytes of JSON; pool 'big' allows at most 1048576 \(maxOutput\)/)
    const record = await broker.get(res.headers.get('x-switchyard-run-id') ?? '')
    assert.equal(record?.attempts, 1, 'not retried: the same graph returns the same output')
    assert.equal(record?.output, undefined)
  }
  // A pool's own maxOutput: 16kb.
  assert.equal((await post(`${gateway.url}/v1/workflows/small.make/run`, { bytes: 16 * 1024 - 100 })).status, 200)
  const over = await post(`${gateway.url}/v1/workflows/small.make/run`, { bytes: 16 * 1024 })
  assert.equal((over.body as { code: string }).code, 'OUTPUT_TOO_LARGE')
})

void test('what leaves the worker is the output it measured: a getter or a change after returning gets nothing larger past maxOutput', async () => {
  // Before, the check read the live object and the broker serialised it again later: 1 MB past a 16kb maxOutput.
  for (const trick of ['getter', 'later']) {
    const res = await post(`${gateway.url}/v1/workflows/small.make/run`, { bytes: MB, trick })
    assert.equal(res.status, 200, trick)
    assert.deepEqual(res.body, { text: 'x' }, `${trick}: the caller receives the output as it was checked`)
    const record = await broker.get(res.headers.get('x-switchyard-run-id') ?? '')
    assert.deepEqual(record?.output, { text: 'x' }, `${trick}: the broker keeps it as it was checked`)
  }
})

void test('outputs that fit are kept within the broker budget, and a list of runs carries none', async () => {
  const ids: string[] = []
  for (let i = 0; i < 12; i++) {
    const res = await post(`${gateway.url}/v1/workflows/big.make/run`, { bytes: MB - 1024 })
    assert.equal(res.status, 200)
    assert.equal((res.body as { text: string }).text.length, MB - 1024)
    ids.push(res.headers.get('x-switchyard-run-id') ?? '')
  }
  const readable = await Promise.all(ids.map(async (id) => (await get(`${gateway.url}/v1/runs/${id}`)).status))
  // 8 MB of budget holds the newest 8 outputs of just under 1 MB (ids past it are 404, not kept forever).
  assert.deepEqual(readable, [404, 404, 404, 404, 200, 200, 200, 200, 200, 200, 200, 200])
  const list = await get(`${gateway.url}/v1/runs?limit=1000`)
  const runs = (list.body as { runs: Array<Record<string, unknown>> }).runs
  assert.ok(runs.length > 0)
  for (const run of runs) assert.equal('output' in run, false)
  assert.ok(Buffer.byteLength(JSON.stringify(list.body)) < 64 * 1024)
})
