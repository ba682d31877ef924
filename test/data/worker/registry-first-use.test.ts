// A worker checks a workflow's files on its first use of that workflow (loadRegistry's
// default): one whose files changed since the compiled registry was written, and no longer
// compile, is refused as REGISTRY_INVALID (not run, not retried), while the others run.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'

import { loadRegistry } from '../../../src/control/index.js'
import { verifiedCompiledSha256 } from '../../../src/control/tooling/index.js'
import type { Envelope } from '../../../src/data/index.js'
import type { RunRecord } from '../../../src/data/broker/index.js'
import { MemoryBroker } from '../../../src/data/broker/memory/index.js'
import { createWorker, type PoolWorker } from '../../../src/data/worker/index.js'
import { folder, type Folder } from '../../control/fixture.js'
import { envelopeFor, VERIFY, LONG } from './worker-helpers.js'

const FLOW = (name: string) => `  work.${name}:
    pool: work
    graph: wf/graph.ts
    input: ${name}.schema.json
    description: ${name}
`

let f: Folder
let broker: MemoryBroker
let worker: PoolWorker
const envelopes = new Map<string, Envelope>()

before(async () => {
  f = folder({
    'switchyard.yaml': `version: 1\npools:\n  work: { timeout: 30s }\nworkflows:\n${FLOW('a')}${FLOW('b')}`,
    'a.schema.json': '{ "type": "object" }',
    'b.schema.json': '{ "type": "object" }',
  })
  // The gateway's registry routes both before the change (and writes the compiled form).
  const gateway = loadRegistry(f.path('switchyard.yaml'))
  for (const name of ['a', 'b']) envelopes.set(name, envelopeFor(gateway, `work.${name}`, { n: 1 }))
  // As its supervisor starts it: the compiled form the gateway's load wrote, vouched for by its digest.
  const compiledSha256 = verifiedCompiledSha256(f.path('switchyard.yaml'))
  assert.ok(compiledSha256)
  const registry = loadRegistry(f.path('switchyard.yaml'), { cacheTrust: 'none', compiledSha256 })
  // After both loads: work.b's schema no longer compiles.
  f.write('b.schema.json', '{ "type": "objet" }')
  broker = new MemoryBroker({ pools: registry.pools.values(), retryDelayMs: 10 })
  worker = createWorker({
    pool: 'work',
    registry,
    source: broker.source('work'),
    verifyKeys: VERIFY,
    port: 0,
    watchdogGraceMs: null,
    queueDepth: async () => 0,
  })
  await worker.start()
})

after(async () => {
  await worker.close()
  await broker.close()
  f.remove()
})

async function run(envelope: Envelope | undefined): Promise<RunRecord> {
  assert.ok(envelope)
  await broker.submit(envelope)
  return broker.wait(envelope.runId, { until: Date.now() + LONG })
}

void describe('worker: a workflow checked against its files on first use', () => {
  void test('refuses the workflow whose files no longer compile, naming the problem, and runs the other', async () => {
    const broken = await run(envelopes.get('b'))
    assert.equal(broken.status, 'failed')
    assert.equal(broken.error?.code, 'REGISTRY_INVALID')
    assert.equal(broken.error?.retryable, false)
    assert.match(broken.error?.message ?? '', /b\.schema\.json/)
    assert.equal(broken.attempts, 1)
    const fine = await run(envelopes.get('a'))
    assert.equal(fine.status, 'succeeded', JSON.stringify(fine.error))
  })
})
