// The worker on the embedded broker, in this process: verify → lazy graph → deadline → outcome.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'

import type { Registry } from '../../../src/control/index.js'
import type { RunRecord } from '../../../src/data/broker/index.js'
import { generateSigningKey, type Envelope } from '../../../src/data/index.js'
import { MemoryBroker } from '../../../src/data/broker/memory/index.js'
import { createWorker, type PoolWorker } from '../../../src/data/worker/index.js'
import { envelopeFor, fixtureRegistry, KEY, VERIFY, LONG } from './worker-helpers.js'
import { sampleValue } from '../../helpers/prometheus.js'

let registry: Registry
let broker: MemoryBroker
let worker: PoolWorker
const logs: string[] = []

before(async () => {
  registry = fixtureRegistry()
  broker = new MemoryBroker({ pools: registry.pools.values(), retryDelayMs: 10 })
  const log = (fields: Record<string, unknown>) => ({
    debug() {},
    info() {},
    warn: (m: string, f?: Record<string, unknown>) => logs.push(JSON.stringify({ m, ...fields, ...f })),
    error: (m: string, f?: Record<string, unknown>) => logs.push(JSON.stringify({ m, ...fields, ...f })),
  })
  worker = createWorker({
    pool: 'work',
    registry,
    source: broker.source('work'),
    verifyKeys: VERIFY,
    port: 0,
    watchdogGraceMs: null,
    queueDepth: async () => (await broker.stats()).find((s) => s.pool === 'work')?.queued ?? 0,
    log: { ...log({}), child: (fields) => log(fields) },
  })
  await worker.start()
})

after(async () => {
  await worker.close()
  await broker.close()
})

async function run(envelope: Envelope): Promise<RunRecord> {
  await broker.submit(envelope)
  return broker.wait(envelope.runId, { until: Date.now() + LONG })
}

void describe('worker: runs', () => {
  void test('a plain-function graph gets its input and a full run context', async () => {
    const record = await run(envelopeFor(registry, 'work.echo', { name: 'Ada' }))
    assert.equal(record.status, 'succeeded', JSON.stringify(record.error))
    const output = record.output as Record<string, unknown>
    assert.deepEqual(output.echo, { name: 'Ada' })
    assert.equal(output.attempt, 1)
    assert.equal(output.pool, 'work')
    assert.equal(output.workflow, 'work.echo')
    assert.match(String(output.prompt), /^sha256:[0-9a-f]{64}$/)
    assert.equal(output.model, 'offline')
    assert.equal(output.root, registry.root)
  })

  void test('a compiled LangGraph graph is invoked with the run in configurable', async () => {
    const record = await run(envelopeFor(registry, 'work.langgraph', { name: 'Grace' }))
    assert.equal(record.status, 'succeeded', JSON.stringify(record.error))
    assert.deepEqual(record.output, { name: 'Grace', greeting: 'hello Grace', attempt: 1 })
  })

  void test('a module that fails to import fails only its workflow (GRAPH_LOAD_FAILED, no retry); the pool keeps serving', async () => {
    const broken = await run(envelopeFor(registry, 'work.broken', {}))
    assert.equal(broken.status, 'failed')
    assert.equal(broken.attempts, 1)
    assert.deepEqual(broken.error, {
      code: 'GRAPH_LOAD_FAILED',
      message: "workflow 'work.broken': graph broken.ts#graph failed to load: broken.ts: cannot initialise (deliberately)",
      retryable: false,
    })
    const factory = await run(envelopeFor(registry, 'work.badfactory', {}))
    assert.equal(factory.error?.code, 'GRAPH_LOAD_FAILED')
    assert.equal(
      factory.error?.message,
      "workflow 'work.badfactory': graph graphs.ts#badFactory failed to load: badFactory: the factory failed (deliberately)",
    )
    // The same pool, the same process, another workflow: still fine, and the broken one stays broken.
    assert.equal((await run(envelopeFor(registry, 'work.echo', { again: true }))).status, 'succeeded')
    assert.equal((await run(envelopeFor(registry, 'work.broken', {}))).error?.code, 'GRAPH_LOAD_FAILED')
  })

  void test('a plain Error is GRAPH_FAILED and retried; the second attempt succeeds', async () => {
    const record = await run(envelopeFor(registry, 'work.flaky', {}))
    assert.equal(record.status, 'succeeded')
    assert.equal(record.attempts, 2)
    assert.deepEqual(record.output, { attempt: 2 })
  })

  void test('a SwitchyardError keeps its code and is not retried', async () => {
    const record = await run(envelopeFor(registry, 'work.fatal', {}))
    assert.equal(record.status, 'failed')
    assert.equal(record.attempts, 1)
    assert.equal(record.deadLettered, true)
    assert.deepEqual(record.error, { code: 'MODEL_OUTPUT_INVALID', message: 'fatal: the model answered nonsense', retryable: false })
  })

  void test('an output that is not JSON fails the run by name, without retry', async () => {
    const record = await run(envelopeFor(registry, 'work.bigint', {}))
    assert.equal(record.status, 'failed')
    assert.deepEqual(record.error, {
      code: 'GRAPH_FAILED',
      message: "workflow 'work.bigint' returned an output that is not JSON: Do not know how to serialize a BigInt",
      retryable: false,
    })
  })

  void test("an output that matches the workflow's output schema is the run's output", async () => {
    const record = await run(envelopeFor(registry, 'work.shaped', { name: 'Ada' }))
    assert.equal(record.status, 'succeeded', JSON.stringify(record.error))
    assert.deepEqual((record.output as { echo: unknown }).echo, { name: 'Ada' })
  })

  void test("an output that does not match the workflow's output schema fails the run with its paths, without retry", async () => {
    const record = await run(envelopeFor(registry, 'work.misshaped', { name: 'Ada' }))
    assert.equal(record.status, 'failed')
    assert.equal(record.attempts, 1)
    assert.deepEqual(record.error, {
      code: 'OUTPUT_INVALID',
      message:
        "workflow 'work.misshaped' returned an output that does not match its output schema: " +
        "/: must have required property 'answer'; /attempt: must be string; /echo: must NOT have additional properties 'name'",
      retryable: false,
    })
  })

  void test("an output larger than the pool's maxOutput fails the run as OUTPUT_TOO_LARGE, without retry; one just under it travels", async () => {
    const MB = 1024 ** 2
    const fits = await run(envelopeFor(registry, 'work.sized', { bytes: MB - 100 }))
    assert.equal(fits.status, 'succeeded', JSON.stringify(fits.error))
    assert.equal(Buffer.byteLength(JSON.stringify(fits.output)) <= MB, true)
    for (const input of [
      { bytes: 5 * MB },
      // Bytes of UTF-8, not characters: 700,000 'ü' are 1.4 MB.
      { bytes: Math.round(1.4 * MB), char: 'ü' },
      // An output that is not plain JSON (a Date) is measured as it will travel.
      { bytes: 2 * MB, date: true },
    ]) {
      const record = await run(envelopeFor(registry, 'work.sized', input))
      assert.equal(record.status, 'failed', JSON.stringify(input))
      assert.equal(record.attempts, 1)
      assert.equal(record.output, undefined)
      assert.equal(record.error?.code, 'OUTPUT_TOO_LARGE')
      assert.equal(record.error?.retryable, false)
      assert.match(
        record.error?.message ?? '',
        /^workflow 'work\.sized' returned \d+ bytes of JSON; pool 'work' allows at most 1048576 \(maxOutput\)$/,
      )
    }
  })

  void test('a graph that returns undefined where its output schema requires an object fails as OUTPUT_INVALID, not null', async () => {
    const record = await run(envelopeFor(registry, 'work.nothing', {}))
    assert.equal(record.status, 'failed')
    assert.deepEqual(record.error, {
      code: 'OUTPUT_INVALID',
      message:
        "workflow 'work.nothing' returned an output that does not match its output schema (it returned nothing: undefined): /: must be object",
      retryable: false,
    })
    // Without an output schema, nothing travels as null.
    const allowed = await run(envelopeFor(registry, 'work.nothing-allowed', {}))
    assert.equal(allowed.status, 'succeeded')
    assert.equal(allowed.output, null)
  })

  void test("the run's signal aborts at the deadline: DEADLINE_EXCEEDED, dead-lettered, never retried past its deadline", async () => {
    const deadline = new Date(Date.now() + 200).toISOString()
    const envelope = envelopeFor(registry, 'work.slow', { ms: 60_000 }, { change: (plan) => ({ ...plan, deadline }) })
    const record = await run(envelope)
    assert.equal(record.status, 'failed')
    assert.equal(record.attempts, 1)
    assert.equal(record.deadLettered, true)
    assert.equal(record.error?.code, 'DEADLINE_EXCEEDED')
    assert.equal(record.error?.retryable, true)
    assert.match(record.error?.message ?? '', new RegExp(`^run ${envelope.runId} of 'work.slow' did not finish by its deadline \\d{4}-`))
  })
})

void describe('worker: refusals (not run, not retried, counted)', () => {
  void test('unsigned, tampered, foreign-pool, malformed and expired envelopes are refused', async () => {
    const unsigned = await run(envelopeFor(registry, 'work.echo', {}, { key: null }))
    assert.deepEqual(unsigned.error, {
      code: 'INVALID_ENVELOPE',
      message: 'invalid envelope: missing signature (sig is empty and this worker verifies signatures: SWITCHYARD_VERIFY_KEYS is set)',
      retryable: false,
    })
    assert.equal(unsigned.attempts, 1)

    const good = envelopeFor(registry, 'work.echo', { amount: 1 })
    const tampered = await run({ ...good, input: { amount: 1000 } })
    assert.equal(
      tampered.error?.message,
      `invalid envelope: signature does not match (the envelope was altered, or not signed by key ${KEY.id})`,
    )

    const otherKey = await run(envelopeFor(registry, 'work.echo', {}, { key: generateSigningKey() }))
    assert.equal(otherKey.error?.code, 'INVALID_ENVELOPE')

    // Signed correctly, but for a workflow of another pool, placed on this pool's queue.
    const foreign = await run(envelopeFor(registry, 'email.env', {}, { change: (plan) => ({ ...plan, pool: 'work' }) }))
    assert.deepEqual(foreign.error, {
      code: 'INVALID_ENVELOPE',
      message: "invalid envelope: workflow 'email.env' belongs to pool 'email'; this worker serves pool 'work'",
      retryable: false,
    })

    const malformed = await run({ ...good, runId: 'malformed-1', v: 2 } as unknown as Envelope)
    assert.equal(malformed.error?.message, 'invalid envelope: unsupported version v=number 2 (this worker reads v=1)')

    const expired = envelopeFor(
      registry,
      'work.echo',
      {},
      { change: (plan) => ({ ...plan, deadline: new Date(Date.now() - 1000).toISOString() }) },
    )
    const late = await run(expired)
    assert.deepEqual(late.error, {
      code: 'DEADLINE_EXCEEDED',
      message: `run ${expired.runId} reached the worker after its deadline ${expired.deadline}`,
      retryable: false,
    })

    // Another registry version (a rolling deploy): a warning, and the run goes ahead.
    const other = `sha256:${'0'.repeat(64)}`
    const newer = await run(envelopeFor(registry, 'work.echo', {}, { change: (plan) => ({ ...plan, registry: other }) }))
    assert.equal(newer.status, 'succeeded')
    assert.ok(logs.some((line) => line.includes('envelope from another registry version') && line.includes(other)))

    const text = await (await fetch(`${worker.url}/metrics`)).text()
    const rejected = (reason: string) => sampleValue(text, 'switchyard_envelopes_rejected_total', { pool: 'work', reason })
    assert.equal(rejected('signature'), 3)
    assert.equal(rejected('pool'), 1)
    assert.equal(rejected('malformed'), 1)
    assert.equal(rejected('deadline'), 1)
  })
})

void describe('worker: /healthz and /metrics', () => {
  void test('healthz answers ok; metrics count runs by workflow and code, with durations, in-flight and queue depth', async () => {
    await run(envelopeFor(registry, 'work.echo', {}))
    const health = await fetch(`${worker.url}/healthz`)
    assert.equal(health.status, 200)
    assert.deepEqual({ ...(await health.json()), pid: 0 }, { status: 'ok', pool: 'work', inFlight: 0, pid: 0 })
    const metrics = await fetch(`${worker.url}/metrics`)
    assert.equal(metrics.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8')
    const text = await metrics.text()
    assert.match(text, /# TYPE switchyard_runs_started_total counter\n/)
    const echo = { pool: 'work', workflow: 'work.echo' }
    assert.ok((sampleValue(text, 'switchyard_runs_started_total', echo) ?? 0) >= 1)
    assert.ok((sampleValue(text, 'switchyard_runs_succeeded_total', echo) ?? 0) >= 1)
    assert.equal(sampleValue(text, 'switchyard_runs_failed_total', { code: 'GRAPH_LOAD_FAILED', pool: 'work', workflow: 'work.broken' }), 2)
    assert.ok((sampleValue(text, 'switchyard_run_duration_seconds_bucket', { ...echo, outcome: 'succeeded', le: '+Inf' }) ?? 0) >= 1)
    assert.equal(sampleValue(text, 'switchyard_runs_in_flight', { pool: 'work' }), 0)
    assert.equal(sampleValue(text, 'switchyard_queue_depth', { pool: 'work' }), 0)
    // Then the process's own series (prom-client's defaults).
    assert.ok((sampleValue(text, 'process_cpu_seconds_total') ?? -1) >= 0, 'process_cpu_seconds_total')
    assert.ok((sampleValue(text, 'nodejs_eventloop_lag_max_seconds') ?? -1) >= 0, 'nodejs_eventloop_lag_max_seconds')
    assert.equal((await fetch(`${worker.url}/nope`)).status, 404)
  })
})
