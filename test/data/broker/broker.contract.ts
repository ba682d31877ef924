// The broker contract: one suite every Broker + RunSource pair runs (Hono's common
// router suite is the model). test/data/redis-broker.test.ts runs it on Redis; the
// MemoryBroker's test runs it on the embedded broker.
//
// setup() must build a fresh, empty broker on contractRegistry() (or a registry with
// the same pools and workflows), with a retry backoff of at most ~50 ms, and return a
// way to make a RunSource for one pool. Every test calls setup() once and close() at
// the end; the suite closes the sources it starts itself.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'

import { SwitchyardError } from '../../../src/control/index.js'
import type { Pool, Registry, RoutePlan, Workflow } from '../../../src/control/index.js'
import type { Broker, RunRecord, Delivery, Outcome, RunSource } from '../../../src/data/broker/index.js'
import { createEnvelope, verifyEnvelope, type Envelope } from '../../../src/data/index.js'

export interface BrokerFixture {
  readonly broker: Broker
  source(pool: string): RunSource
  readonly registry: Registry
  close(): Promise<void>
}

/** Pool `work` runs everything; pool `tight` (maxQueued 2) never gets a worker in the suite. */
export const CONTRACT = {
  pools: { work: 'work', tight: 'tight' },
  workflows: { echo: 'contract.echo', other: 'contract.other', tight: 'contract.tight' },
  maxQueuedTight: 2,
  maxAttempts: 3,
} as const

function pool(name: string, maxQueued: number): Pool {
  return {
    name,
    runtime: 'node',
    concurrency: 4,
    processes: 1,
    timeoutMs: 30_000,
    retries: CONTRACT.maxAttempts - 1,
    maxQueued,
    memoryBytes: null,
    env: null,
    redis: null,
    tracing: { project: `contract-${name}`, sampleRate: 1, capture: 'full', redact: [] },
  }
}

function workflow(name: string, poolName: string): Workflow {
  return {
    name,
    pool: poolName,
    graph: { ref: 'contract/graph.ts#graph', module: '/contract/graph.ts', export: 'graph' },
    prompt: null,
    input: true,
    output: null,
    description: `broker contract workflow ${name}`,
    timeoutMs: 30_000,
    retries: CONTRACT.maxAttempts - 1,
  }
}

/** The registry every broker under the contract is built on. */
export function contractRegistry(): Registry {
  const pools = [pool(CONTRACT.pools.work, 1000), pool(CONTRACT.pools.tight, CONTRACT.maxQueuedTight)]
  const workflows = [
    workflow(CONTRACT.workflows.echo, CONTRACT.pools.work),
    workflow(CONTRACT.workflows.other, CONTRACT.pools.work),
    workflow(CONTRACT.workflows.tight, CONTRACT.pools.tight),
  ]
  return {
    version: 1,
    source: '/contract/switchyard.yaml',
    root: '/contract',
    digest: `sha256:${'c'.repeat(64)}`,
    pools: new Map(pools.map((p) => [p.name, p])),
    workflows: new Map(workflows.map((w) => [w.name, w])),
  }
}

/** What the suite's handler does with a run, chosen by its input. */
type Behaviour =
  | { readonly mode: 'echo'; readonly value: unknown }
  | { readonly mode: 'fatal' }
  | { readonly mode: 'retryable' }
  | { readonly mode: 'flaky'; readonly failures: number }

let sequence = 0

/** A RoutePlan built by hand: the broker does not care how the plan was made. */
function plan(registry: Registry, workflowName: string, input: Behaviour): RoutePlan {
  const w = registry.workflows.get(workflowName)
  assert.ok(w, `contract registry lacks ${workflowName}`)
  const p = registry.pools.get(w.pool)
  assert.ok(p)
  return {
    workflow: w.name,
    pool: p.name,
    queue: `switchyard.${p.name}`,
    runtime: 'node',
    graph: w.graph.ref,
    prompt: null,
    input,
    timeoutMs: w.timeoutMs,
    deadline: new Date(Date.now() + w.timeoutMs).toISOString(),
    retry: { maxAttempts: w.retries + 1, backoff: { type: 'exponential', delayMs: 10 } },
    tracing: p.tracing,
    registry: registry.digest,
  }
}

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736'

function envelope(registry: Registry, workflowName: string, input: Behaviour, idempotencyKey: string | null = null): Envelope {
  sequence += 1
  const runId = `c${process.pid}-${Date.now().toString(36)}-${sequence}`
  const trace = { traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-01`, tracestate: '', baggage: '' }
  return createEnvelope(plan(registry, workflowName, input), { runId, trace, idempotencyKey }, null)
}

/** Runs the handler saw, per run id: how many times, and with which attempt numbers. */
class Executions {
  readonly attempts = new Map<string, number[]>()

  handler = async (delivery: Delivery): Promise<Outcome> => {
    const env = verifyEnvelope(delivery.raw, null)
    const seen = this.attempts.get(env.runId) ?? []
    seen.push(delivery.attempt)
    this.attempts.set(env.runId, seen)
    const behaviour = env.input as Behaviour
    switch (behaviour.mode) {
      case 'echo':
        return { ok: true, output: { echo: behaviour.value, attempt: delivery.attempt } }
      case 'fatal':
        return { ok: false, error: { code: 'GRAPH_FAILED', message: 'the graph threw: boom', retryable: false } }
      case 'retryable':
        return { ok: false, error: { code: 'MODEL_FAILED', message: 'model timed out', retryable: true } }
      case 'flaky':
        return delivery.attempt <= behaviour.failures
          ? { ok: false, error: { code: 'MODEL_FAILED', message: `flaky attempt ${delivery.attempt}`, retryable: true } }
          : { ok: true, output: { recovered: true, attempt: delivery.attempt } }
    }
  }

  count(runId: string): number {
    return this.attempts.get(runId)?.length ?? 0
  }
}

const LONG_WAIT_MS = 20_000

async function finished(broker: Broker, runId: string): Promise<RunRecord> {
  const record = await broker.wait(runId, { until: Date.now() + LONG_WAIT_MS })
  assert.ok(['succeeded', 'failed', 'cancelled'].includes(record.status), `run ${runId} still ${record.status}`)
  return record
}

async function rejection(promise: Promise<unknown>): Promise<SwitchyardError> {
  try {
    await promise
  } catch (error) {
    assert.ok(error instanceof SwitchyardError, `expected a SwitchyardError, got ${String(error)}`)
    return error
  }
  assert.fail('expected a rejection')
}

/**
 * Register the broker contract tests under `name`.
 * @example brokerContract('redis', async () => ({ broker, source: (pool) => redisRunSource(pool, …), registry, close }))
 */
export function brokerContract(name: string, setup: () => Promise<BrokerFixture>): void {
  /** One fresh fixture per test, a worker on pool `work`, everything closed at the end. */
  async function withBroker(
    body: (f: BrokerFixture, executions: Executions) => Promise<void>,
    options: { worker: boolean } = { worker: true },
  ): Promise<void> {
    const fixture = await setup()
    const executions = new Executions()
    const source = options.worker ? fixture.source(CONTRACT.pools.work) : null
    source?.start(executions.handler, { concurrency: 4 })
    try {
      await body(fixture, executions)
    } finally {
      await source?.close()
      await fixture.close()
    }
  }

  void describe(`broker contract: ${name}`, () => {
    void test('submit → run → wait: the run succeeds with the handler output, and get() shows it', () =>
      withBroker(async ({ broker, registry }, executions) => {
        const before = Date.now()
        const env = envelope(registry, CONTRACT.workflows.echo, { mode: 'echo', value: { hello: 'world' } })
        const submitted = await broker.submit(env)
        assert.deepEqual(submitted, { runId: env.runId, deduped: false })

        const record = await finished(broker, env.runId)
        assert.equal(record.status, 'succeeded')
        assert.deepEqual(record.output, { echo: { hello: 'world' }, attempt: 1 })
        assert.equal(record.runId, env.runId)
        assert.equal(record.workflow, CONTRACT.workflows.echo)
        assert.equal(record.pool, CONTRACT.pools.work)
        assert.equal(record.attempts, 1)
        assert.equal(record.maxAttempts, CONTRACT.maxAttempts)
        assert.equal(record.deadline, env.deadline)
        assert.equal(record.traceId, TRACE_ID)
        assert.equal(record.idempotencyKey, null)
        assert.equal(record.error, undefined)
        assert.ok(record.deadLettered !== true)
        assert.ok(record.createdAt >= before - 1000 && record.createdAt <= Date.now())
        assert.ok(record.startedAt !== undefined && record.startedAt >= record.createdAt - 1000)
        assert.ok(record.finishedAt !== undefined && record.finishedAt >= record.startedAt)
        assert.equal(executions.count(env.runId), 1)

        assert.deepEqual(await broker.get(env.runId), record)
        assert.equal(await broker.get('no-such-run'), null)
      }))

    void test('list(): newest first, filtered by pool, workflow and status, limited', () =>
      withBroker(async ({ broker, registry }) => {
        const ids: string[] = []
        for (const [wf, value] of [
          [CONTRACT.workflows.echo, 1],
          [CONTRACT.workflows.other, 2],
          [CONTRACT.workflows.echo, 3],
        ] as const) {
          const env = envelope(registry, wf, { mode: 'echo', value })
          await broker.submit(env)
          await finished(broker, env.runId)
          ids.push(env.runId)
          // Distinct creation times make "newest first" well defined.
          await new Promise((resolve) => setTimeout(resolve, 5))
        }
        const fail = envelope(registry, CONTRACT.workflows.echo, { mode: 'fatal' })
        await broker.submit(fail)
        await finished(broker, fail.runId)

        const all = await broker.list({ pool: CONTRACT.pools.work })
        assert.deepEqual(
          all.map((r) => r.runId),
          [fail.runId, ...ids.slice().reverse()],
        )
        const echo = await broker.list({ workflow: CONTRACT.workflows.echo, status: 'succeeded' })
        assert.deepEqual(
          echo.map((r) => r.runId),
          [ids[2], ids[0]],
        )
        const limited = await broker.list({ status: 'succeeded', limit: 2 })
        assert.deepEqual(
          limited.map((r) => r.runId),
          [ids[2], ids[1]],
        )
        assert.deepEqual(
          (await broker.list({ status: 'failed' })).map((r) => r.runId),
          [fail.runId],
        )
        assert.deepEqual(await broker.list({ pool: CONTRACT.pools.tight }), [])
      }))

    void test('a non-retryable failure fails at once, with the error and dead-lettered', () =>
      withBroker(async ({ broker, registry }, executions) => {
        const env = envelope(registry, CONTRACT.workflows.echo, { mode: 'fatal' })
        await broker.submit(env)
        const record = await finished(broker, env.runId)
        assert.equal(record.status, 'failed')
        assert.deepEqual(record.error, { code: 'GRAPH_FAILED', message: 'the graph threw: boom', retryable: false })
        assert.equal(record.attempts, 1)
        assert.equal(record.deadLettered, true)
        assert.equal(record.output, undefined)
        assert.equal(executions.count(env.runId), 1)
      }))

    void test('a retryable failure is retried, and a later attempt can succeed', () =>
      withBroker(async ({ broker, registry }, executions) => {
        const env = envelope(registry, CONTRACT.workflows.echo, { mode: 'flaky', failures: 1 })
        await broker.submit(env)
        const record = await finished(broker, env.runId)
        assert.equal(record.status, 'succeeded')
        assert.deepEqual(record.output, { recovered: true, attempt: 2 })
        assert.equal(record.attempts, 2)
        assert.deepEqual(executions.attempts.get(env.runId), [1, 2])
      }))

    void test('retryable failures on every attempt: retried up to maxAttempts, then dead-lettered', () =>
      withBroker(async ({ broker, registry }, executions) => {
        const env = envelope(registry, CONTRACT.workflows.echo, { mode: 'retryable' })
        await broker.submit(env)
        const record = await finished(broker, env.runId)
        assert.equal(record.status, 'failed')
        assert.deepEqual(record.error, { code: 'MODEL_FAILED', message: 'model timed out', retryable: true })
        assert.equal(record.attempts, CONTRACT.maxAttempts)
        assert.equal(record.deadLettered, true)
        assert.deepEqual(executions.attempts.get(env.runId), [1, 2, 3])
        const dead = await broker.list({ status: 'failed' })
        assert.deepEqual(
          dead.map((r) => [r.runId, r.deadLettered]),
          [[env.runId, true]],
        )
      }))

    void test('idempotency: same key and input → the same run, executed once; different input → conflict', () =>
      withBroker(async ({ broker, registry }, executions) => {
        const first = envelope(registry, CONTRACT.workflows.echo, { mode: 'echo', value: 'once' }, 'order-42')
        const again = envelope(registry, CONTRACT.workflows.echo, { mode: 'echo', value: 'once' }, 'order-42')
        assert.notEqual(first.runId, again.runId)
        assert.deepEqual(await broker.submit(first), { runId: first.runId, deduped: false })
        assert.deepEqual(await broker.submit(again), { runId: first.runId, deduped: true })
        const record = await finished(broker, first.runId)
        assert.deepEqual(record.output, { echo: 'once', attempt: 1 })
        assert.equal(record.idempotencyKey, 'order-42')
        // Also after the run finished.
        const late = envelope(registry, CONTRACT.workflows.echo, { mode: 'echo', value: 'once' }, 'order-42')
        assert.deepEqual(await broker.submit(late), { runId: first.runId, deduped: true })
        assert.equal(executions.count(first.runId), 1)
        assert.equal(await broker.get(again.runId), null)

        const other = envelope(registry, CONTRACT.workflows.echo, { mode: 'echo', value: 'twice' }, 'order-42')
        const error = await rejection(broker.submit(other))
        assert.equal(error.code, 'IDEMPOTENCY_CONFLICT')
        assert.equal(error.retryable, false)
        assert.match(error.message, /order-42/)
        assert.equal(await broker.get(other.runId), null)
      }))

    void test('backpressure: a pool with maxQueued queued runs refuses the next with POOL_SATURATED', () =>
      withBroker(async ({ broker, registry }) => {
        const queued: string[] = []
        for (let i = 0; i < CONTRACT.maxQueuedTight; i++) {
          const env = envelope(registry, CONTRACT.workflows.tight, { mode: 'echo', value: i })
          await broker.submit(env)
          queued.push(env.runId)
        }
        const refused = envelope(registry, CONTRACT.workflows.tight, { mode: 'echo', value: 'over' })
        const error = await rejection(broker.submit(refused))
        assert.equal(error.code, 'POOL_SATURATED')
        assert.equal(error.retryable, true)
        assert.match(error.message, /tight/)
        // The hint the gateway turns into Retry-After (PoolSaturatedError, src/data/pool-saturated.ts).
        const retryAfterMs = (error as { retryAfterMs?: unknown }).retryAfterMs
        assert.ok(typeof retryAfterMs === 'number' && retryAfterMs > 0, `retryAfterMs hint missing: ${String(retryAfterMs)}`)
        assert.equal(await broker.get(refused.runId), null)
        for (const runId of queued) assert.equal((await broker.get(runId))?.status, 'queued')
        const tight = (await broker.stats()).find((s) => s.pool === CONTRACT.pools.tight)
        assert.equal(tight?.queued, CONTRACT.maxQueuedTight)
        // Another pool is not affected by this one's backlog.
        const elsewhere = envelope(registry, CONTRACT.workflows.echo, { mode: 'echo', value: 'fine' })
        await broker.submit(elsewhere)
        assert.equal((await finished(broker, elsewhere.runId)).status, 'succeeded')
      }))

    void test('wait() is bounded by `until`: it resolves with the record as it stands', () =>
      withBroker(
        async ({ broker, registry }) => {
          const env = envelope(registry, CONTRACT.workflows.tight, { mode: 'echo', value: 'never run' })
          await broker.submit(env)
          const record = await broker.wait(env.runId, { until: Date.now() + 150 })
          assert.equal(record.status, 'queued')
          assert.equal(record.attempts, 0)
          assert.equal(record.runId, env.runId)
          const past = await broker.wait(env.runId, { until: Date.now() - 1 })
          assert.equal(past.status, 'queued')
        },
        { worker: false },
      ))

    void test('wait() ends when its signal aborts (a caller gone), with the record as it stands', () =>
      withBroker(
        async ({ broker, registry }) => {
          const env = envelope(registry, CONTRACT.workflows.tight, { mode: 'echo', value: 'caller left' })
          await broker.submit(env)
          const caller = new AbortController()
          const waiting = broker.wait(env.runId, { until: Date.now() + LONG_WAIT_MS, signal: caller.signal })
          caller.abort()
          assert.equal((await waiting).status, 'queued')
          const already = await broker.wait(env.runId, { until: Date.now() + LONG_WAIT_MS, signal: AbortSignal.abort() })
          assert.equal(already.status, 'queued')
        },
        { worker: false },
      ))
  })
}
