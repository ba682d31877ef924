// A runtime: python pool on `switchyard dev`'s embedded broker: the supervisor starts
// `python3 -m switchyard_worker --ipc`, which takes its runs as JSON lines on fd 3 (the
// node workers' IPC protocol), with the node workers' guarantees: readiness, the
// deadline, the heap cap, a crash retried and restarted with backoff, SIGTERM draining.
import assert from 'node:assert/strict'
import { fileURLToPath } from 'node:url'
import { after, before, describe, test } from 'node:test'

import { loadRegistry } from '../../../src/control/index.js'
import type { Registry } from '../../../src/control/index.js'
import type { RunRecord } from '../../../src/data/broker/index.js'
import { generateSigningKey, type Envelope } from '../../../src/data/index.js'
import { MemoryBroker } from '../../../src/data/broker/memory/index.js'
import { pythonProgram, startSupervisor, type Supervisor } from '../../../src/data/supervisor/index.js'
import { Events, eventually } from './supervisor-helpers.js'
import { envelopeFor, VERIFY, LONG } from '../worker/worker-helpers.js'
import { pythonSkip } from '../../helpers/python.js'

const CONFIG = fileURLToPath(new URL('../../fixtures/python/switchyard.yaml', import.meta.url))

void describe('a python pool on the embedded broker', { skip: pythonSkip(['opentelemetry.sdk', 'jsonschema']) }, () => {
  let registry: Registry
  let broker: MemoryBroker
  let supervisor: Supervisor
  const events = new Events()

  before(async () => {
    registry = loadRegistry(CONFIG)
    broker = new MemoryBroker({ pools: [...registry.pools.values()].map((pool) => ({ ...pool, served: true })), retryDelayMs: 20 })
    supervisor = startSupervisor({
      registry,
      broker: { kind: 'memory', broker },
      worker: { module: 'unused: this registry has no node pool', args: () => [] },
      python: pythonProgram(),
      verifyKeys: VERIFY,
      backoff: { initialMs: 50, maxMs: 1000, resetAfterMs: 60_000 },
      onEvent: events.push,
      output: events.output,
    })
    await eventually('the python pool has a worker', async () => (await broker.ready()) || undefined, LONG).catch((error: Error) => {
      throw new Error(`${error.message}; the worker said:\n${events.tail()}`)
    })
  })

  after(async () => {
    await supervisor?.stop()
    await broker?.close()
  })

  async function run(envelope: Envelope): Promise<RunRecord> {
    await broker.submit(envelope)
    return broker.wait(envelope.runId, { until: Date.now() + LONG })
  }

  void test('the pool is ready and in the status table once its python worker said ready', async () => {
    assert.equal(await broker.ready(), true)
    assert.match(await supervisor.table(), /\npy\s+1\/1\s/)
    assert.equal((await broker.stats()).find((s) => s.pool === 'py')?.workers, 1)
  })

  void test('a signed run comes back as its flat output', async () => {
    const envelope = envelopeFor(registry, 'py.hello', { name: 'Ada' })
    const record = await run(envelope)
    assert.equal(record.status, 'succeeded', events.tail())
    assert.deepEqual(record.output, {
      greeting: 'hello Ada',
      runId: envelope.runId,
      workflow: 'py.hello',
      attempt: 1,
      prompt: 'Greet {{name}} warmly.',
    })
  })

  void test('an envelope signed with another key is refused without retry', async () => {
    const record = await run(envelopeFor(registry, 'py.hello', { name: 'Ada' }, { key: generateSigningKey() }))
    assert.equal(record.status, 'failed')
    assert.equal(record.error?.code, 'INVALID_ENVELOPE')
    assert.equal(record.attempts, 1)
  })

  void test('a sync graph past its deadline fails DEADLINE_EXCEEDED; the worker keeps serving', async () => {
    const record = await run(envelopeFor(registry, 'py.stuck', { s: 3 }))
    assert.equal(record.error?.code, 'DEADLINE_EXCEEDED', events.tail())
    assert.equal((await run(envelopeFor(registry, 'py.hello', { name: 'B' }))).status, 'succeeded')
  })

  void test("a run past the pool's heap cap (memory: 256mb, RLIMIT_DATA) fails with MemoryError; the process lives on", async () => {
    const [pid] = supervisor.pids('py')
    const record = await run(envelopeFor(registry, 'py.grow', { mb: 1024 }))
    assert.equal(record.status, 'failed')
    assert.deepEqual(record.error, { code: 'GRAPH_FAILED', message: 'MemoryError', retryable: true })
    assert.deepEqual((await run(envelopeFor(registry, 'py.grow', { mb: 8 }))).output, { allocated: 8 })
    assert.deepEqual(supervisor.pids('py'), [pid])
  })

  void test('a worker killed mid-run: the run is retried on its replacement, started after a backoff', async () => {
    const [first] = supervisor.pids('py')
    assert.ok(first !== undefined)
    const envelope = envelopeFor(registry, 'py.slow', { ms: 1500 })
    await broker.submit(envelope)
    await eventually('the run to start', async () => ((await broker.get(envelope.runId))?.status === 'running' ? true : undefined), LONG)
    process.kill(first, 'SIGKILL')
    const record = await broker.wait(envelope.runId, { until: Date.now() + LONG })
    assert.equal(record.status, 'succeeded', events.tail())
    assert.deepEqual(record.output, { slept: 1500 })
    assert.equal(record.attempts, 2)
    assert.ok(events.of('restart', 'py').length >= 1)
    assert.notDeepEqual(supervisor.pids('py'), [first])
    assert.match(await supervisor.table(), /\npy\s+1\/1\s+\d+\s+\d+\s+\d+\s+1\s/)
  })

  void test('stop() drains: a run in flight finishes and its outcome arrives before the worker exits', async () => {
    const envelope = envelopeFor(registry, 'py.slow', { ms: 800 })
    await broker.submit(envelope)
    await eventually('the run to start', async () => ((await broker.get(envelope.runId))?.status === 'running' ? true : undefined), LONG)
    await supervisor.stop()
    const record = await broker.wait(envelope.runId, { until: Date.now() + LONG })
    assert.equal(record.status, 'succeeded', events.tail())
    const exits = events.of('exit', 'py')
    assert.equal(exits.at(-1)?.code, 0, events.tail())
    assert.equal(exits.at(-1)?.expected, true)
  })
})
