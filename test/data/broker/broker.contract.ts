// The broker contract: one suite every Broker + RunSource pair runs (Hono's common
// router suite is the model). test/data/redis-broker.test.ts runs it on Redis; the
// MemoryBroker's test runs it on the embedded broker.
//
// setup() must build a fresh, empty broker on contractRegistry() (or a registry with
// the same pools and workflows), with a retry backoff of at most ~50 ms, and return a
// way to make a RunSource for one pool, in this process or in a child process of its
// own (fixtures/consumer.ts) that a test can kill -9. Every test calls setup() once and
// close() at the end; the suite closes the sources and kills the children it starts.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'

import { SwitchyardError } from '../../../src/control/index.js'
import { eventually } from '../../helpers/eventually.js'
import { poolLive } from '../../helpers/pool-live.js'
import type { Pool, Registry, RoutePlan, Workflow } from '../../../src/control/index.js'
import {
  ANONYMOUS_OWNER,
  type Broker,
  type RunRecord,
  type Delivery,
  type Outcome,
  type RunSource,
} from '../../../src/data/broker/index.js'
import { createEnvelope, verifyEnvelope, type Envelope } from '../../../src/data/index.js'
import { EXPIRED_MESSAGE, lostError } from '../../../src/data/broker/run-errors.js'

/** A run a child consumer started: its attempt, lost attempts, and the runs in flight there then (itself included). */
export interface Start {
  readonly runId: string
  readonly attempt: number
  readonly lost: number
  readonly inFlight: number
}

/** A consumer in a process of its own (fixtures/consumer.ts). */
export interface ChildConsumer {
  /** Resolves once the child has taken run `runId` (with its attempt and lost attempts). */
  started(runId: string): Promise<{ attempt: number; lost: number }>
  /** Every run the child started, in order (the ledger). */
  readonly starts: readonly Start[]
  /** Resolves once the process has gone (killed, or killed itself) and the broker side has seen it. */
  readonly exited: Promise<void>
  /** SIGKILL, and wait until the broker side has seen the process go. */
  kill(): Promise<void>
}

export interface BrokerFixture {
  readonly broker: Broker
  source(pool: string): RunSource
  /** A consumer of `pool` in a child process (concurrency 4): it echoes, hangs on `{ mode: 'hang' }`, and more (fixtures/consumer.ts). */
  spawnConsumer(pool: string): Promise<ChildConsumer>
  readonly registry: Registry
  /** One expiry pass now, where the broker runs them on a timer (Redis: expiry.ts), racing the timer's. */
  expireNow?(): Promise<number>
  close(): Promise<void>
}

/** Pool `work` runs everything; pools `tight` (maxQueued 2) and `burst` (maxQueued 50) never get a worker in the suite. */
export const CONTRACT = {
  pools: { work: 'work', tight: 'tight', burst: 'burst' },
  workflows: { echo: 'contract.echo', other: 'contract.other', tight: 'contract.tight', burst: 'contract.burst' },
  maxQueuedTight: 2,
  maxQueuedBurst: 50,
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
    cpuCores: null,
    maxOutputBytes: 1024 ** 2,
    env: null,
    secrets: [],
    redis: null,
    user: null,
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
  const pools = [
    pool(CONTRACT.pools.work, 1000),
    pool(CONTRACT.pools.tight, CONTRACT.maxQueuedTight),
    pool(CONTRACT.pools.burst, CONTRACT.maxQueuedBurst),
  ]
  const workflows = [
    workflow(CONTRACT.workflows.echo, CONTRACT.pools.work),
    workflow(CONTRACT.workflows.other, CONTRACT.pools.work),
    workflow(CONTRACT.workflows.tight, CONTRACT.pools.tight),
    workflow(CONTRACT.workflows.burst, CONTRACT.pools.burst),
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
export type Behaviour =
  | { readonly mode: 'echo'; readonly value: unknown }
  | { readonly mode: 'fatal' }
  | { readonly mode: 'retryable' }
  | { readonly mode: 'flaky'; readonly failures: number }
  /** Fails (retryable) just before its deadline: a retry could only start after it. */
  | { readonly mode: 'late' }
  /** Runs until its signal aborts, then fails with the abort's reason (as the worker does). */
  | { readonly mode: 'abortable' }
  /** Never ends (fixtures/consumer.ts); the suite's own handler treats it as abortable. */
  | { readonly mode: 'hang' }
  /** Succeeds after `ms`. */
  | { readonly mode: 'wait'; readonly ms: number }
  /** Kills its process once `together` runs are in flight there (fixtures/consumer.ts); the suite's own handler fails it. */
  | { readonly mode: 'poison'; readonly together: number }

let sequence = 0

/** A RoutePlan built by hand: the broker does not care how the plan was made. */
function plan(registry: Registry, workflowName: string, input: Behaviour, timeoutMs?: number): RoutePlan {
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
    timeoutMs: timeoutMs ?? w.timeoutMs,
    deadline: new Date(Date.now() + (timeoutMs ?? w.timeoutMs)).toISOString(),
    retry: { maxAttempts: w.retries + 1, backoff: { type: 'exponential', delayMs: 10 } },
    tracing: p.tracing,
    registry: registry.digest,
  }
}

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736'

/** An unsigned envelope for a workflow of the contract registry, with the handler's behaviour as input. */
export function envelope(
  registry: Registry,
  workflowName: string,
  input: Behaviour,
  idempotencyKey: string | null = null,
  timeoutMs?: number,
): Envelope {
  sequence += 1
  const runId = `c${process.pid}-${Date.now().toString(36)}-${sequence}`
  const trace = { traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-01`, tracestate: '', baggage: '' }
  return createEnvelope(plan(registry, workflowName, input, timeoutMs), { runId, trace, idempotencyKey }, null)
}

/** Queue it even though no worker of its pool is alive. */
const ASYNC = { async: true } as const

/** Runs the handler saw, per run id: how many times, and with which attempt numbers. */
class Executions {
  readonly attempts = new Map<string, number[]>()
  readonly lost = new Map<string, number[]>()
  /** The reason each abortable run's signal aborted with. */
  readonly aborted = new Map<string, unknown>()
  /** Starts whose signal had aborted already (a cancel that came before the run could start): run id → lost attempts. */
  readonly abortedAtStart: Array<{ runId: string; lost: number }> = []
  /** Starts whose signal had not aborted: run id → lost attempts. */
  readonly liveStarts: Array<{ runId: string; lost: number }> = []
  private readonly startedWaiters = new Map<string, () => void>()

  /** Resolves once run `runId` has started here. */
  started(runId: string): Promise<void> {
    if (this.attempts.has(runId)) return Promise.resolve()
    return new Promise((resolve) => this.startedWaiters.set(runId, resolve))
  }

  handler = async (delivery: Delivery): Promise<Outcome> => {
    const env = verifyEnvelope(delivery.raw, null)
    // As the worker does (worker.ts admit): a run whose worker died, delivered past its deadline, ends WORKER_LOST unrun
    // (not counted as a start here).
    if (delivery.lostAttempts > 0 && Date.parse(env.deadline) <= Date.now())
      return { ok: false, error: lostError(env.runId, env.deadline, `${delivery.lostAttempts} earlier attempt(s) died`), refused: true }
    const seen = this.attempts.get(env.runId) ?? []
    seen.push(delivery.attempt)
    this.attempts.set(env.runId, seen)
    this.lost.set(env.runId, [...(this.lost.get(env.runId) ?? []), delivery.lostAttempts])
    ;(delivery.signal.aborted ? this.abortedAtStart : this.liveStarts).push({ runId: env.runId, lost: delivery.lostAttempts })
    this.startedWaiters.get(env.runId)?.()
    const behaviour = env.input as Behaviour
    switch (behaviour.mode) {
      case 'late':
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, Date.parse(env.deadline) - Date.now() - 2)))
        return { ok: false, error: { code: 'MODEL_FAILED', message: 'model timed out late', retryable: true } }
      case 'abortable':
      case 'hang': {
        const reason = await new Promise<unknown>((resolve) => {
          if (delivery.signal.aborted) resolve(delivery.signal.reason)
          delivery.signal.addEventListener('abort', () => resolve(delivery.signal.reason), { once: true })
        })
        this.aborted.set(env.runId, reason)
        const e = SwitchyardError.from(reason)
        return { ok: false, error: { code: e.code, message: e.message, retryable: e.retryable } }
      }
      case 'echo':
        return { ok: true, output: { echo: behaviour.value, attempt: delivery.attempt } }
      case 'wait':
        await new Promise((resolve) => setTimeout(resolve, behaviour.ms))
        return { ok: true, output: { waited: behaviour.ms, attempt: delivery.attempt } }
      case 'poison':
        return { ok: false, error: { code: 'GRAPH_FAILED', message: 'poison (kills only a child consumer)', retryable: false } }
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

/**
 * A worker of pool `tight` that comes after `ended` ended in the queue (cancelled, expired):
 * it runs a run queued now, and never `ended`, whose record stays `status`.
 */
async function laterWorkerSkips(
  { broker, registry, source }: Pick<BrokerFixture, 'broker' | 'registry' | 'source'>,
  executions: Executions,
  ended: string,
  status: RunRecord['status'],
): Promise<void> {
  const next = envelope(registry, CONTRACT.workflows.tight, { mode: 'echo', value: 'next' })
  await broker.submit(next, ASYNC)
  const worker = source(CONTRACT.pools.tight)
  worker.start(executions.handler, { concurrency: 1 })
  try {
    assert.equal((await finished(broker, next.runId)).status, 'succeeded')
    assert.equal(executions.count(ended), 0)
    assert.equal((await broker.get(ended))?.status, status)
  } finally {
    await worker.close()
  }
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
    const children: ChildConsumer[] = []
    const tracked: BrokerFixture = {
      ...fixture,
      broker: fixture.broker,
      async spawnConsumer(pool) {
        const child = await fixture.spawnConsumer(pool)
        children.push(child)
        return child
      },
    }
    try {
      // A worker counts once the broker can see it (on Redis: its first heartbeat).
      if (source) await poolLive(fixture.broker, CONTRACT.pools.work)
      await body(tracked, executions)
    } finally {
      await Promise.all(children.map((child) => child.kill()))
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
        assert.equal(record.owner, ANONYMOUS_OWNER)
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

    void test('idempotency keys are scoped per workflow too: the same key in another workflow is another run', () =>
      withBroker(async ({ broker, registry }, executions) => {
        const echo = envelope(registry, CONTRACT.workflows.echo, { mode: 'echo', value: 'same' }, 'order-7')
        const other = envelope(registry, CONTRACT.workflows.other, { mode: 'echo', value: 'same' }, 'order-7')
        assert.deepEqual(await broker.submit(echo), { runId: echo.runId, deduped: false })
        assert.deepEqual(await broker.submit(other), { runId: other.runId, deduped: false })
        // Even with another input: the key of one workflow says nothing about another's.
        const different = envelope(registry, CONTRACT.workflows.tight, { mode: 'echo', value: 'else' }, 'order-7')
        assert.deepEqual(await broker.submit(different, ASYNC), { runId: different.runId, deduped: false })
        assert.equal((await finished(broker, echo.runId)).status, 'succeeded')
        assert.equal((await finished(broker, other.runId)).status, 'succeeded')
        assert.equal(executions.count(echo.runId), 1)
        assert.equal(executions.count(other.runId), 1)
        // Within one workflow the key still dedupes.
        const again = envelope(registry, CONTRACT.workflows.other, { mode: 'echo', value: 'same' }, 'order-7')
        assert.deepEqual(await broker.submit(again), { runId: other.runId, deduped: true })
      }))

    void test('idempotency keys are scoped per owner: another owner reusing a key gets its own run, never the first one or its output', () =>
      withBroker(async ({ broker, registry }, executions) => {
        const wf = CONTRACT.workflows.echo
        const alice = { owner: 't-alice' }
        const bob = { owner: 't-bob' }
        const carol = { owner: 't-carol' }
        const first = envelope(registry, wf, { mode: 'echo', value: 'alice-only' }, 'shared-key')
        assert.deepEqual(await broker.submit(first, alice), { runId: first.runId, deduped: false })
        // The same key and input from another owner: a run of its own, executed on its own.
        const sameInput = envelope(registry, wf, { mode: 'echo', value: 'alice-only' }, 'shared-key')
        assert.deepEqual(await broker.submit(sameInput, bob), { runId: sameInput.runId, deduped: false })
        // Another input from a third owner: no conflict with either (nothing names their runs).
        const otherInput = envelope(registry, wf, { mode: 'echo', value: 'carol-own' }, 'shared-key')
        assert.deepEqual(await broker.submit(otherInput, carol), { runId: otherInput.runId, deduped: false })
        // Without an owner: the anonymous owner, another scope again.
        const anonymous = envelope(registry, wf, { mode: 'echo', value: 'alice-only' }, 'shared-key')
        assert.deepEqual(await broker.submit(anonymous), { runId: anonymous.runId, deduped: false })
        for (const [env, owner, value] of [
          [first, 't-alice', 'alice-only'],
          [sameInput, 't-bob', 'alice-only'],
          [otherInput, 't-carol', 'carol-own'],
          [anonymous, ANONYMOUS_OWNER, 'alice-only'],
        ] as const) {
          const record = await finished(broker, env.runId)
          assert.deepEqual([record.status, record.owner, record.output], ['succeeded', owner, { echo: value, attempt: 1 }])
          assert.equal(executions.count(env.runId), 1)
        }
        const listed = await broker.list({ workflow: wf })
        assert.equal(listed.find((r) => r.runId === first.runId)?.owner, 't-alice')

        // Each owner still dedupes its own retries, finished or not, and conflicts only with its own run.
        const retry = envelope(registry, wf, { mode: 'echo', value: 'alice-only' }, 'shared-key')
        assert.deepEqual(await broker.submit(retry, alice), { runId: first.runId, deduped: true })
        assert.deepEqual(await broker.submit(retry, bob), { runId: sameInput.runId, deduped: true })
        const changed = envelope(registry, wf, { mode: 'echo', value: 'changed' }, 'shared-key')
        const conflict = await rejection(broker.submit(changed, alice))
        assert.equal(conflict.code, 'IDEMPOTENCY_CONFLICT')
        assert.match(conflict.message, new RegExp(`run ${first.runId}`))
        for (const other of [sameInput, otherInput, anonymous]) assert.doesNotMatch(conflict.message, new RegExp(other.runId))
        assert.equal(executions.count(first.runId), 1)

        // An owner id is a plain name: one that could read as another scope is refused, nothing queued.
        const forged = envelope(registry, wf, { mode: 'echo', value: 'x' }, 'k')
        for (const owner of ['t-bob:contract.echo', 'a\nb', '']) {
          assert.equal((await rejection(broker.submit(forged, { owner }))).code, 'BAD_REQUEST')
        }
        assert.equal(await broker.get(forged.runId), null)
      }))

    void test('idempotency under a burst: 50 concurrent submits of one key and input make one run, executed once', () =>
      withBroker(async ({ broker, registry }, executions) => {
        const envelopes = Array.from({ length: 50 }, () =>
          envelope(registry, CONTRACT.workflows.echo, { mode: 'echo', value: 'burst' }, 'once'),
        )
        const results = await Promise.all(envelopes.map((env) => broker.submit(env)))
        const runIds = new Set(results.map((r) => r.runId))
        assert.equal(runIds.size, 1)
        assert.equal(results.filter((r) => !r.deduped).length, 1)
        const [runId] = [...runIds] as [string]
        assert.equal((await finished(broker, runId)).status, 'succeeded')
        assert.equal(executions.count(runId), 1)
      }))

    void test('backpressure: a pool with maxQueued queued runs refuses the next with POOL_SATURATED', () =>
      withBroker(async ({ broker, registry }) => {
        const queued: string[] = []
        for (let i = 0; i < CONTRACT.maxQueuedTight; i++) {
          const env = envelope(registry, CONTRACT.workflows.tight, { mode: 'echo', value: i })
          await broker.submit(env, ASYNC)
          queued.push(env.runId)
        }
        const refused = envelope(registry, CONTRACT.workflows.tight, { mode: 'echo', value: 'over' })
        const error = await rejection(broker.submit(refused, ASYNC))
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
          await broker.submit(env, ASYNC)
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
          await broker.submit(env, ASYNC)
          const caller = new AbortController()
          const waiting = broker.wait(env.runId, { until: Date.now() + LONG_WAIT_MS, signal: caller.signal })
          caller.abort()
          assert.equal((await waiting).status, 'queued')
          const already = await broker.wait(env.runId, { until: Date.now() + LONG_WAIT_MS, signal: AbortSignal.abort() })
          assert.equal(already.status, 'queued')
        },
        { worker: false },
      ))

    void test('maxQueued is exact: of 500 concurrent submits to a pool with maxQueued 50, exactly 50 are queued', () =>
      withBroker(
        async ({ broker, registry }) => {
          const envelopes = Array.from({ length: 500 }, (_, i) => envelope(registry, CONTRACT.workflows.burst, { mode: 'echo', value: i }))
          const results = await Promise.allSettled(envelopes.map((env) => broker.submit(env, ASYNC)))
          const accepted = results.filter((r) => r.status === 'fulfilled')
          const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected')
          assert.equal(accepted.length, CONTRACT.maxQueuedBurst)
          assert.deepEqual([...new Set(refused.map((r) => (r.reason as SwitchyardError).code))], ['POOL_SATURATED'])
          assert.equal((await broker.stats()).find((s) => s.pool === CONTRACT.pools.burst)?.queued, CONTRACT.maxQueuedBurst)
          assert.equal((await broker.list({ pool: CONTRACT.pools.burst, limit: 1000 })).length, CONTRACT.maxQueuedBurst)
        },
        { worker: false },
      ))

    void test('a pool with no live worker: a caller who waits is refused at once (POOL_UNAVAILABLE); an async run is queued', () =>
      withBroker(async ({ broker, registry }) => {
        const waiting = envelope(registry, CONTRACT.workflows.tight, { mode: 'echo', value: 'now' })
        const error = await rejection(broker.submit(waiting))
        assert.equal(error.code, 'POOL_UNAVAILABLE')
        assert.equal(error.retryable, true)
        assert.match(error.message, /tight/)
        const retryAfterMs = (error as { retryAfterMs?: unknown }).retryAfterMs
        assert.ok(typeof retryAfterMs === 'number' && retryAfterMs > 0)
        assert.equal(await broker.get(waiting.runId), null)
        const later = envelope(registry, CONTRACT.workflows.tight, { mode: 'echo', value: 'later' })
        assert.deepEqual(await broker.submit(later, ASYNC), { runId: later.runId, deduped: false })
        assert.equal((await broker.get(later.runId))?.status, 'queued')
        // A retry of an accepted submission (same key) gets its run, worker or not.
        const keyed = envelope(registry, CONTRACT.workflows.tight, { mode: 'echo', value: 'k' }, 'queued-key')
        await broker.submit(keyed, ASYNC)
        const retry = envelope(registry, CONTRACT.workflows.tight, { mode: 'echo', value: 'k' }, 'queued-key')
        assert.deepEqual(await broker.submit(retry), { runId: keyed.runId, deduped: true })
      }))

    void test('a retryable failure is never retried past the deadline: the run fails with its own error', () =>
      withBroker(async ({ broker, registry }, executions) => {
        const env = envelope(registry, CONTRACT.workflows.echo, { mode: 'late' }, null, 600)
        await broker.submit(env)
        const record = await finished(broker, env.runId)
        assert.equal(record.status, 'failed')
        assert.deepEqual(record.error, { code: 'MODEL_FAILED', message: 'model timed out late', retryable: true })
        assert.equal(record.attempts, 1)
        assert.equal(record.deadLettered, true)
        assert.deepEqual(executions.attempts.get(env.runId), [1])
      }))

    void test('cancel a queued run: it ends cancelled at once, never runs, and cancel is idempotent', () =>
      withBroker(
        async ({ broker, registry, source }, executions) => {
          const env = envelope(registry, CONTRACT.workflows.tight, { mode: 'echo', value: 'x' }, 'cancel-me')
          await broker.submit(env, ASYNC)
          const waiting = broker.wait(env.runId, { until: Date.now() + LONG_WAIT_MS })
          const cancelled = await broker.cancel(env.runId)
          assert.equal(cancelled.status, 'cancelled')
          assert.equal(cancelled.error?.code, 'CANCELLED')
          assert.equal(cancelled.error?.retryable, false)
          assert.match(cancelled.error?.message ?? '', /cancelled while queued/)
          assert.ok(cancelled.finishedAt !== undefined)
          assert.equal((await waiting).status, 'cancelled')
          assert.equal((await broker.get(env.runId))?.status, 'cancelled')
          assert.equal((await broker.cancel(env.runId)).status, 'cancelled')
          assert.deepEqual(
            (await broker.list({ status: 'cancelled' })).map((r) => r.runId),
            [env.runId],
          )
          assert.equal((await broker.stats()).find((s) => s.pool === CONTRACT.pools.tight)?.queued, 0)
          // Its key still names it.
          const again = envelope(registry, CONTRACT.workflows.tight, { mode: 'echo', value: 'x' }, 'cancel-me')
          assert.deepEqual(await broker.submit(again, ASYNC), { runId: env.runId, deduped: true })
          // A worker that comes now runs what is queued, and never the cancelled run.
          await laterWorkerSkips({ broker, registry, source }, executions, env.runId, 'cancelled')
        },
        { worker: false },
      ))

    void test('cancel a running run: its signal aborts with CANCELLED, and the run ends cancelled', () =>
      withBroker(async ({ broker, registry }, executions) => {
        const env = envelope(registry, CONTRACT.workflows.echo, { mode: 'abortable' })
        await broker.submit(env)
        await executions.started(env.runId)
        await broker.cancel(env.runId)
        const record = await finished(broker, env.runId)
        assert.equal(record.status, 'cancelled')
        assert.equal(record.error?.code, 'CANCELLED')
        assert.match(record.error?.message ?? '', /cancelled while running/)
        const reason = executions.aborted.get(env.runId)
        assert.ok(reason instanceof SwitchyardError, `the graph's signal aborted with ${String(reason)}`)
        assert.equal(reason.code, 'CANCELLED')
        assert.equal(reason.retryable, false)
        assert.equal((await broker.cancel(env.runId)).status, 'cancelled')
        assert.equal(executions.count(env.runId), 1)
        assert.deepEqual(
          (await broker.list({ status: 'cancelled' })).map((r) => r.runId),
          [env.runId],
        )
        assert.deepEqual(await broker.list({ status: 'failed' }), [])
      }))

    void test('cancel: an unknown run is UNKNOWN_RUN; a finished one is RUN_FINISHED', () =>
      withBroker(async ({ broker, registry }) => {
        assert.equal((await rejection(broker.cancel('no-such-run'))).code, 'UNKNOWN_RUN')
        const env = envelope(registry, CONTRACT.workflows.echo, { mode: 'echo', value: 'done' })
        await broker.submit(env)
        await finished(broker, env.runId)
        const error = await rejection(broker.cancel(env.runId))
        assert.equal(error.code, 'RUN_FINISHED')
        assert.equal(error.retryable, false)
        assert.equal((await broker.get(env.runId))?.status, 'succeeded')
      }))

    void test('a queued run no worker takes ends failed DEADLINE_EXCEEDED at its deadline, and wait() returns it', () =>
      withBroker(
        async ({ broker, registry, source }, executions) => {
          const env = envelope(registry, CONTRACT.workflows.tight, { mode: 'echo', value: 'late' }, 'expire-me', 600)
          await broker.submit(env, ASYNC)
          assert.equal((await broker.get(env.runId))?.status, 'queued')
          // Bounded well past the deadline: a run left queued would come back still `queued`.
          const record = await broker.wait(env.runId, { until: Date.parse(env.deadline) + 5000 })
          assert.equal(record.status, 'failed', `still ${record.status}`)
          assert.deepEqual(record.error, { code: 'DEADLINE_EXCEEDED', message: EXPIRED_MESSAGE, retryable: false })
          assert.equal(record.deadLettered, true)
          assert.equal(record.attempts, 0)
          assert.equal(record.owner, ANONYMOUS_OWNER)
          assert.ok((record.finishedAt ?? 0) >= Date.parse(env.deadline), 'ended no sooner than its deadline')
          assert.deepEqual(await broker.get(env.runId), record)
          assert.deepEqual(
            (await broker.list({ pool: CONTRACT.pools.tight, status: 'failed' })).map((r) => r.runId),
            [env.runId],
          )
          assert.equal((await broker.stats()).find((s) => s.pool === CONTRACT.pools.tight)?.queued, 0)
          assert.equal(broker.expiries?.().get(CONTRACT.pools.tight), 1)
          assert.equal((await rejection(broker.cancel(env.runId))).code, 'RUN_FINISHED')
          // Its key still names it; a worker that comes now never runs it.
          const again = envelope(registry, CONTRACT.workflows.tight, { mode: 'echo', value: 'late' }, 'expire-me')
          assert.deepEqual(await broker.submit(again, ASYNC), { runId: env.runId, deduped: true })
          await laterWorkerSkips({ broker, registry, source }, executions, env.runId, 'failed')
        },
        { worker: false },
      ))

    void test('cancel racing expiry: each run ends once, cancelled or expired, and reads the same everywhere', () =>
      withBroker(
        async ({ broker, registry, expireNow }) => {
          const runs = Array.from({ length: 20 }, (_, i) =>
            envelope(registry, CONTRACT.workflows.burst, { mode: 'echo', value: i }, null, 400),
          )
          for (const env of runs) await broker.submit(env, ASYNC)
          const deadline = Math.max(...runs.map((env) => Date.parse(env.deadline)))
          await new Promise((resolve) => setTimeout(resolve, Math.max(0, deadline - Date.now())))
          // Every run's cancel against the expiry passes (the broker's own, and here more of them).
          const [answers] = await Promise.all([
            Promise.all(
              runs.map((env) =>
                broker.cancel(env.runId).then(
                  (r) => r.status,
                  (e: SwitchyardError) => e.code,
                ),
              ),
            ),
            Promise.all([expireNow?.(), expireNow?.()]),
          ])
          let expired = 0
          for (const [i, env] of runs.entries()) {
            const record = await broker.wait(env.runId, { until: Date.now() + 5000 })
            assert.ok(record.status === 'cancelled' || record.status === 'failed', `${env.runId} ${record.status}`)
            // Cancel won (it says cancelled) or expiry did (cancel found it finished): never both.
            assert.equal(answers[i], record.status === 'cancelled' ? 'cancelled' : 'RUN_FINISHED')
            if (record.status === 'failed') {
              expired += 1
              assert.equal(record.error?.code, 'DEADLINE_EXCEEDED')
            } else assert.equal(record.error?.code, 'CANCELLED')
            assert.deepEqual(await broker.get(env.runId), record)
          }
          const listed = (await broker.list({ pool: CONTRACT.pools.burst, limit: 1000 })).map((r) => r.runId)
          assert.deepEqual([...listed].sort(), runs.map((env) => env.runId).sort(), 'each run listed once')
          assert.equal(broker.expiries?.().get(CONTRACT.pools.burst) ?? 0, expired)
        },
        { worker: false },
      ))

    void test('a run taken before its deadline is never expired, running or finished', () =>
      withBroker(async ({ broker, registry, expireNow }, executions) => {
        const done = envelope(registry, CONTRACT.workflows.echo, { mode: 'echo', value: 'quick' }, null, 800)
        const held = envelope(registry, CONTRACT.workflows.echo, { mode: 'abortable' }, null, 800)
        await broker.submit(done)
        await broker.submit(held)
        assert.equal((await finished(broker, done.runId)).status, 'succeeded')
        await executions.started(held.runId)
        // Past the deadline by more than two of the broker's passes, and one more pass here.
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, Date.parse(held.deadline) - Date.now() + 1200)))
        await expireNow?.()
        assert.equal((await broker.get(done.runId))?.status, 'succeeded')
        assert.equal((await broker.get(held.runId))?.status, 'running')
        assert.equal(broker.expiries?.().get(CONTRACT.pools.work) ?? 0, 0)
        await broker.cancel(held.runId)
        assert.equal((await finished(broker, held.runId)).status, 'cancelled')
      }))

    void test('a run queued again after its worker died, then expired, ends WORKER_LOST', () =>
      withBroker(
        async ({ broker, registry, spawnConsumer }) => {
          const doomed = await spawnConsumer(CONTRACT.pools.work)
          const env = envelope(registry, CONTRACT.workflows.echo, { mode: 'hang' }, null, 3000)
          await broker.submit(env, ASYNC)
          await doomed.started(env.runId)
          // Its worker dies; no other is there to take it back before its deadline.
          await doomed.kill()
          const record = await broker.wait(env.runId, { until: Date.parse(env.deadline) + 5000 })
          assert.equal(record.status, 'failed', `still ${record.status}`)
          assert.equal(record.error?.code, 'WORKER_LOST', record.error?.message)
          assert.match(record.error?.message ?? '', /1 earlier attempt\(s\) died with their worker/)
          assert.equal(record.deadLettered, true)
          assert.equal(broker.expiries?.().get(CONTRACT.pools.work), 1)
        },
        { worker: false },
      ))

    void test('kill -9 the worker process of a running run: another worker runs it, within its deadline', () =>
      withBroker(
        async ({ broker, registry, spawnConsumer, source }) => {
          const doomed = await spawnConsumer(CONTRACT.pools.work)
          const env = envelope(registry, CONTRACT.workflows.echo, { mode: 'hang' }, null, 30_000)
          await broker.submit(env, ASYNC)
          assert.deepEqual(await doomed.started(env.runId), { attempt: 1, lost: 0 })
          await doomed.kill()
          // The survivor finishes what the dead one hung on.
          const seen: Array<[number, number]> = []
          const replacement = source(CONTRACT.pools.work)
          replacement.start(
            async (delivery) => {
              seen.push([delivery.attempt, delivery.lostAttempts])
              return { ok: true, output: { by: 'survivor' } }
            },
            { concurrency: 1 },
          )
          try {
            const record = await finished(broker, env.runId)
            assert.equal(record.status, 'succeeded')
            assert.deepEqual(record.output, { by: 'survivor' })
            // The lost attempt counts as started; it is not charged as a failed one.
            assert.equal(record.attempts, 2)
            assert.deepEqual(seen, [[1, 1]])
            assert.ok(Date.now() < Date.parse(env.deadline))
          } finally {
            await replacement.close()
          }
        },
        { worker: false },
      ))

    void test('a run that keeps killing its worker is dead-lettered WORKER_CRASHED after 2 crashes', () =>
      withBroker(
        async ({ broker, registry, spawnConsumer }) => {
          const first = await spawnConsumer(CONTRACT.pools.work)
          const env = envelope(registry, CONTRACT.workflows.echo, { mode: 'hang' }, null, 60_000)
          await broker.submit(env, ASYNC)
          await first.started(env.runId)
          const second = await spawnConsumer(CONTRACT.pools.work)
          await first.kill()
          assert.deepEqual(await second.started(env.runId), { attempt: 1, lost: 1 })
          const third = await spawnConsumer(CONTRACT.pools.work)
          await second.kill()
          const record = await finished(broker, env.runId)
          assert.equal(record.status, 'failed')
          assert.equal(record.error?.code, 'WORKER_CRASHED')
          assert.equal(record.error?.retryable, false)
          assert.match(record.error?.message ?? '', /dead-lettered after its worker died under it 2 times/)
          assert.equal(record.deadLettered, true)
          assert.equal(record.attempts, 2)
          void third
        },
        { worker: false },
      ))

    void test('a run that kills its workers within a short deadline is dead-lettered WORKER_CRASHED, not WORKER_LOST', () =>
      withBroker(
        async ({ broker, registry, spawnConsumer }) => {
          // Both consumers are up before the run: its 4 s are spent on the crashes, not on starting processes.
          const consumers = [await spawnConsumer(CONTRACT.pools.work), await spawnConsumer(CONTRACT.pools.work)]
          const env = envelope(registry, CONTRACT.workflows.echo, { mode: 'hang' }, null, 4000)
          await broker.submit(env, ASYNC)
          // kill -9 whichever consumer took it; the other one takes it next (a lost attempt), and is killed too.
          const took = await Promise.race(consumers.map((c, i) => c.started(env.runId).then((seen) => ({ i, seen }))))
          assert.deepEqual(took.seen, { attempt: 1, lost: 0 })
          const first = consumers[took.i]!
          const second = consumers[1 - took.i]!
          await first.kill()
          assert.deepEqual(await second.started(env.runId), { attempt: 1, lost: 1 })
          await second.kill()
          const record = await finished(broker, env.runId)
          assert.equal(record.status, 'failed')
          assert.equal(record.error?.code, 'WORKER_CRASHED', record.error?.message)
          assert.match(record.error?.message ?? '', /dead-lettered after its worker died under it 2 times/)
          // On Redis the supervisor's word on the process (its exit code or signal) reaches the caller.
          if (name === 'redis') assert.match(record.error?.message ?? '', /was killed by SIGKILL \(its supervisor saw process \d+ go\)/)
          assert.equal(record.deadLettered, true)
          // Counted as each crash happened: dead-lettered before the deadline, not found dead after it.
          assert.ok((record.finishedAt ?? Infinity) < Date.parse(env.deadline), `finished ${record.finishedAt}, deadline ${env.deadline}`)
        },
        { worker: false },
      ))

    void test('runs that shared a process with a poison run succeed: a run whose worker died runs alone, and only the poison is dead-lettered', () =>
      withBroker(
        async ({ broker, registry, spawnConsumer }) => {
          // A pool of one process (concurrency 4), started again each time it dies, as its supervisor does.
          const consumers: ChildConsumer[] = [await spawnConsumer(CONTRACT.pools.work)]
          let stop: () => void = () => undefined
          const stopping = new Promise<void>((resolve) => (stop = resolve))
          let stopped = false
          void stopping.then(() => (stopped = true))
          const supervised = (async () => {
            while (!stopped) {
              await Promise.race([consumers.at(-1)?.exited, stopping])
              if (!stopped) consumers.push(await spawnConsumer(CONTRACT.pools.work))
            }
          })()
          // The innocent runs are in flight when the poison kills the process: it waits for all 4.
          const innocents = [1, 2, 3].map(() => envelope(registry, CONTRACT.workflows.echo, { mode: 'wait', ms: 300 }, null, 60_000))
          const poison = envelope(registry, CONTRACT.workflows.echo, { mode: 'poison', together: 4 }, null, 60_000)
          let records: RunRecord[]
          try {
            for (const env of [...innocents, poison]) await broker.submit(env, ASYNC)
            records = await Promise.all([...innocents, poison].map((env) => finished(broker, env.runId)))
          } finally {
            // The suite kills every consumer it spawned once the test ends.
            stop()
            await supervised
          }
          const starts = consumers.flatMap((c) => c.starts)
          const ledger = JSON.stringify(starts)
          // The first process ran all four together; the poison killed it.
          assert.ok(
            [...innocents, poison].every((env) => starts.some((s) => s.runId === env.runId && s.lost === 0)),
            ledger,
          )
          for (const [i, env] of innocents.entries()) {
            assert.equal(records[i]?.status, 'succeeded', `${env.runId}: ${records[i]?.error?.message ?? ''} ${ledger}`)
          }
          const dead = records[3]
          assert.equal(dead?.status, 'failed')
          assert.equal(dead?.error?.code, 'WORKER_CRASHED', dead?.error?.message)
          assert.match(dead?.error?.message ?? '', /dead-lettered after its worker died under it 2 times/)
          assert.equal(dead?.attempts, 2)
          assert.equal(starts.filter((s) => s.runId === poison.runId).length, 2, ledger)
          // Every run whose worker had died under it ran with nothing else in flight in its process.
          const suspects = starts.filter((s) => s.lost > 0)
          assert.ok(suspects.length >= 1, ledger)
          for (const s of suspects) assert.equal(s.inFlight, 1, `run ${s.runId} ran beside others: ${ledger}`)
        },
        { worker: false },
      ))

    void test('a run whose worker died waits for the runs in flight where it is to run alone; cancelled meanwhile, it ends cancelled unrun', () =>
      withBroker(
        async (fixture, executions) => {
          const { broker, registry, spawnConsumer } = fixture
          // A child consumer holds 4 runs that never end; its process will die under them.
          const doomed = await spawnConsumer(CONTRACT.pools.work)
          const held = [1, 2, 3, 4].map(() => envelope(registry, CONTRACT.workflows.echo, { mode: 'hang' }, null, 60_000))
          for (const env of held) await broker.submit(env, ASYNC)
          for (const env of held) await doomed.started(env.runId)
          // Another consumer, in this process, runs 3 runs that end only when cancelled: 1 slot of 4 is free.
          const survivor = fixture.source(CONTRACT.pools.work)
          survivor.start(executions.handler, { concurrency: 4 })
          try {
            const busy = [1, 2, 3].map(() => envelope(registry, CONTRACT.workflows.echo, { mode: 'abortable' }))
            for (const env of busy) await broker.submit(env, ASYNC)
            for (const env of busy) await executions.started(env.runId)
            await doomed.kill()
            // The 4 are suspects now. One is taken where the 3 run (Redis: running, waiting; memory: kept for it).
            if (name === 'redis') {
              await eventually('a suspect taken by the surviving consumer', async () => {
                const records = await Promise.all(held.map((env) => broker.get(env.runId)))
                return records.some((r) => r?.status === 'running')
              })
            }
            for (const env of held) await broker.cancel(env.runId)
            for (const env of held) {
              const record = await finished(broker, env.runId)
              assert.equal(record.status, 'cancelled', record.error?.message)
            }
            // None ran beside the 3: at most a start whose signal had aborted already (it ends CANCELLED at once).
            const ledger = JSON.stringify({ live: executions.liveStarts, aborted: executions.abortedAtStart })
            for (const env of held) assert.ok(!executions.liveStarts.some((s) => s.runId === env.runId), ledger)
            // The surviving consumer takes runs again.
            const next = envelope(registry, CONTRACT.workflows.echo, { mode: 'echo', value: 'after' })
            await broker.submit(next, ASYNC)
            assert.equal((await finished(broker, next.runId)).status, 'succeeded')
            for (const env of busy) await broker.cancel(env.runId)
            for (const env of busy) assert.equal((await finished(broker, env.runId)).status, 'cancelled')
          } finally {
            await survivor.close()
          }
        },
        { worker: false },
      ))

    void test('a run whose worker died, waiting to run alone, ends WORKER_LOST at its deadline and never runs beside the others', () =>
      withBroker(
        async (fixture, executions) => {
          const { broker, registry, spawnConsumer } = fixture
          const doomed = await spawnConsumer(CONTRACT.pools.work)
          const late = envelope(registry, CONTRACT.workflows.echo, { mode: 'hang' }, null, 8000)
          const held = [late, ...[1, 2, 3].map(() => envelope(registry, CONTRACT.workflows.echo, { mode: 'hang' }, null, 60_000))]
          for (const env of held) await broker.submit(env, ASYNC)
          for (const env of held) await doomed.started(env.runId)
          const survivor = fixture.source(CONTRACT.pools.work)
          survivor.start(executions.handler, { concurrency: 4 })
          try {
            const busy = [1, 2, 3].map(() => envelope(registry, CONTRACT.workflows.echo, { mode: 'abortable' }))
            for (const env of busy) await broker.submit(env, ASYNC)
            for (const env of busy) await executions.started(env.runId)
            await doomed.kill()
            // The other 3 suspects are cancelled: whichever order they come in, `late` waits next, and the 3 never end.
            for (const env of held.slice(1)) await broker.cancel(env.runId)
            assert.ok(Date.now() < Date.parse(late.deadline), 'the test was too slow: its run reached its deadline before its worker died')
            const record = await finished(broker, late.runId)
            const ledger = JSON.stringify({ live: executions.liveStarts, aborted: executions.abortedAtStart })
            assert.equal(record.status, 'failed', ledger)
            assert.equal(record.error?.code, 'WORKER_LOST', record.error?.message)
            assert.ok(!executions.liveStarts.some((s) => s.runId === late.runId), ledger)
            for (const env of busy) await broker.cancel(env.runId)
          } finally {
            await survivor.close()
          }
        },
        { worker: false },
      ))

    void test('a run whose worker dies after its deadline ends WORKER_LOST, and is not run again', () =>
      withBroker(
        async ({ broker, registry, spawnConsumer }) => {
          const doomed = await spawnConsumer(CONTRACT.pools.work)
          const env = envelope(registry, CONTRACT.workflows.echo, { mode: 'hang' }, null, 1500)
          await broker.submit(env, ASYNC)
          await doomed.started(env.runId)
          const other = await spawnConsumer(CONTRACT.pools.work)
          await new Promise((resolve) => setTimeout(resolve, Math.max(0, Date.parse(env.deadline) - Date.now() + 100)))
          await doomed.kill()
          const record = await finished(broker, env.runId)
          assert.equal(record.status, 'failed')
          assert.equal(record.error?.code, 'WORKER_LOST')
          assert.match(record.error?.message ?? '', /its deadline .* passed before another worker could run it/)
          assert.equal(record.deadLettered, true)
          void other
        },
        { worker: false },
      ))
  })
}
