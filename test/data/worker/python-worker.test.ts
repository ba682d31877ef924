// The Python pool worker (python/switchyard_worker) end to end on real Redis: the
// TypeScript RedisBroker submits signed envelopes made by route() + createEnvelope,
// `python3 -m switchyard_worker` runs the python graphs, the results come back in the
// shape the TypeScript side reads (stamped output, attempts, structured errors), and
// an envelope that did not come through the routing contract is refused without retry.
// Then the ways it is started: --lifeline, `switchyard worker --pool py`, the supervisor.
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'

import { Queue } from 'bullmq'

import { SERVICE, loadRegistry, route } from '../../../src/control/index.js'
import type { Registry } from '../../../src/control/index.js'
import { writeResolvedRegistry } from '../../../src/control/tooling/index.js'
import { createEnvelope, generateSigningKey, verifyKeysFor, type Envelope, type SigningKey } from '../../../src/data/index.js'
import { RedisBroker } from '../../../src/data/broker/redis/index.js'
import { pythonProgram, startSupervisor } from '../../../src/data/supervisor/index.js'
import { startGateway, type Gateway } from '../../../src/gateway/index.js'
import { initTracing, type StoredSpan, type Tracing } from '../../../src/observe/index.js'
import { redisSkip, startRedis, type RedisServer } from '../../helpers/redis.js'
import { eventually } from '../supervisor/supervisor-helpers.js'
import { sampleValue } from '../../helpers/prometheus.js'
import { pythonSkip } from '../../helpers/python.js'

const here = dirname(fileURLToPath(import.meta.url))
const pythonDir = join(here, '..', '..', '..', 'python')
const config = join(here, '..', '..', 'fixtures', 'python', 'switchyard.yaml')
const KEY = generateSigningKey()
/** What the python worker gets: the public half only. */
const VERIFY_KEYS = KEY.publicKey

/** Skip reason, or false; in CI (where .ci/run installs ./python) a missing piece fails. */

const skip = redisSkip() || pythonSkip(['bullmq', 'opentelemetry.sdk'])

interface Started {
  readonly child: ChildProcess
  output(): string
  /** SIGTERM (SIGKILL after 10 s); resolves with the exit code. */
  stop(): Promise<number | null>
  exited(): Promise<number | null>
}

/** Env without the runner's exporter or Switchyard settings: each test says what the worker gets. */
function cleanEnv(extra: Record<string, string>): Record<string, string> {
  const base = Object.entries(process.env).filter(([k, v]) => v !== undefined && !k.startsWith('OTEL_') && !k.startsWith('SWITCHYARD_'))
  return { ...(Object.fromEntries(base) as Record<string, string>), ...extra }
}

/** Start a process that runs the python worker; resolves once the worker says it is serving. */
async function startProcess(
  command: string,
  args: string[],
  env: Record<string, string>,
  stdin: 'ignore' | 'pipe' = 'ignore',
): Promise<Started> {
  const child = spawn(command, args, { cwd: pythonDir, env, stdio: [stdin, 'pipe', 'pipe'] })
  let log = ''
  child.stdout?.on('data', (chunk: Buffer) => (log += chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()))
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the python worker did not start:\n${log}`)), 30_000)
    child.stdout?.on('data', () => {
      if (log.includes('switchyard python worker:')) {
        clearTimeout(timer)
        resolve()
      }
    })
    void exit.then((code) => {
      clearTimeout(timer)
      reject(new Error(`the python worker exited with ${code}:\n${log}`))
    })
  })
  return {
    child,
    output: () => log,
    exited: () => exit,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM')
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
        await exit
        clearTimeout(timer)
      }
      return exit
    },
  }
}

function startPythonWorker(url: string, prefix: string, env: Record<string, string>, extraArgs: string[] = []): Promise<Started> {
  // The registry as the TypeScript side resolved it: the worker never reads the YAML.
  const resolved = writeResolvedRegistry(loadRegistry(config))
  const args = ['-m', 'switchyard_worker', '--registry', resolved.file, '--registry-sha256', resolved.sha256, '--pool', 'py']
  args.push('--redis', url, '--prefix', prefix, ...extraArgs)
  return startProcess('python3', args, cleanEnv(env), extraArgs.includes('--lifeline') ? 'pipe' : 'ignore')
}

void describe('python worker on Redis', { skip }, () => {
  let redis: RedisServer
  let registry: Registry
  let broker: RedisBroker
  let worker: Started
  const prefix = `py-${randomUUID().slice(0, 8)}`
  const trace = { traceparent: '', tracestate: '', baggage: '' }

  before(async () => {
    redis = await startRedis()
    registry = loadRegistry(config)
    broker = await RedisBroker.connect({ registry, url: redis.url, prefix, backoffMs: 10, pollMs: 500 })
    worker = await startPythonWorker(redis.url, prefix, { SWITCHYARD_VERIFY_KEYS: VERIFY_KEYS })
  })
  after(async () => {
    await worker?.stop()
    await broker?.close()
    await redis?.stop()
  })

  function envelope(workflow: string, input: unknown, key: SigningKey | null = KEY): Envelope {
    return createEnvelope(route(registry, { workflow, input }), { runId: `py-${randomUUID()}`, trace, idempotencyKey: null }, key)
  }

  async function run(env: Envelope) {
    await broker.submit(env)
    return broker.wait(env.runId, { until: Date.now() + 20_000 })
  }

  void test('the broker counts the python worker: /readyz-ready, one worker per process', async () => {
    // BullMQ names its connections on the worker's first fetch, just after it says it serves.
    await eventually('the broker to count the worker', async () => (await broker.ready()) || undefined, 20_000)
    const [stats] = await broker.stats()
    assert.equal(stats?.pool, 'py')
    assert.equal(stats?.workers, 1)
  })

  void test('a signed run of a sync python graph comes back as its flat output, with its prompt and run facts', async () => {
    const env = envelope('py.hello', { name: 'Ada' })
    const record = await run(env)
    assert.equal(record.status, 'succeeded', worker.output())
    assert.deepEqual(record.output, {
      greeting: 'hello Ada',
      runId: env.runId,
      workflow: 'py.hello',
      attempt: 1,
      prompt: 'Greet {{name}} warmly.',
    })
    assert.equal(record.attempts, 1)
    assert.ok(record.startedAt !== undefined && record.finishedAt !== undefined && record.finishedAt >= record.startedAt)
  })

  void test('an async python graph runs too; its numbers come back as numbers', async () => {
    const record = await run(envelope('py.shout', { text: 'quiet' }))
    assert.equal(record.status, 'succeeded', worker.output())
    assert.deepEqual(record.output, { text: 'QUIET', ratio: 1e-7 })
  })

  void test('an input full of canonical-JSON corner cases is signed in TypeScript and verified in Python', async () => {
    const corners = {
      '😀': 1,
      ﬀ: 2,
      é: 3,
      Z: [1e21, 1e-7, -0, 0.1, 123456789012345680, 5e-324],
      s: 'quote " backslash \\ nl \n tab \t ctl \u0001 del \u007f sep \u2028 lone \ud800',
      nested: { b: [true, false, null, {}], a: '' },
    }
    const record = await run(envelope('py.shout', { text: 'corners', corners }))
    assert.equal(record.status, 'succeeded', JSON.stringify(record.error))
    assert.deepEqual(record.output, { text: 'CORNERS', ratio: 1e-7 })
  })

  void test('a graph that raises is retried with backoff (GRAPH_FAILED is retryable) and succeeds on attempt 2', async () => {
    const record = await run(envelope('py.flaky', {}))
    assert.equal(record.status, 'succeeded', worker.output())
    assert.deepEqual(record.output, { attempt: 2 })
    assert.equal(record.attempts, 2)
  })

  void test('an envelope altered after signing is refused at once, without retry', async () => {
    const signed = envelope('py.hello', { name: 'Ada' })
    const record = await run({ ...signed, input: { name: 'Mallory' } })
    assert.equal(record.status, 'failed')
    assert.deepEqual(record.error, {
      code: 'INVALID_ENVELOPE',
      message: `invalid envelope: signature does not match (the envelope was altered, or not signed by key ${KEY.id})`,
      retryable: false,
    })
    assert.equal(record.attempts, 1)
    assert.equal(record.deadLettered, true)
  })

  void test('replay (issue 12.4): a genuine envelope under a new job id, or a finished run re-added under its own, is not run again', async () => {
    const genuine = envelope('py.hello', { name: 'Ada' })
    assert.equal((await run(genuine)).status, 'succeeded')
    const side = new Queue('switchyard.py', { connection: { url: redis.url }, prefix })
    try {
      const replayId = `replay-${randomUUID()}`
      await side.add('py.hello', genuine, { jobId: replayId, attempts: 3 })
      const moved = await broker.wait(replayId, { until: Date.now() + 20_000 })
      assert.equal(moved.error?.code, 'INVALID_ENVELOPE')
      assert.match(moved.error?.message ?? '', new RegExp(`signed for run ${genuine.runId} but queued as ${replayId} \\(a replay\\)`))
      await side.remove(genuine.runId)
      await side.add('py.hello', genuine, { jobId: genuine.runId, attempts: 3 })
      const again = await broker.wait(genuine.runId, { until: Date.now() + 20_000 })
      assert.equal(again.status, 'failed')
      assert.match(again.error?.message ?? '', /already finished \(a replay\)/)
      assert.equal(again.attempts, 1)
    } finally {
      await side.close()
    }
  })

  void test('an unsigned envelope put on the queue is refused at once, without retry', async () => {
    const record = await run(envelope('py.hello', { name: 'Ada' }, null))
    assert.equal(record.status, 'failed')
    assert.equal(record.error?.code, 'INVALID_ENVELOPE')
    assert.equal(
      record.error?.message,
      'invalid envelope: missing signature (sig is empty and this worker verifies signatures: SWITCHYARD_VERIFY_KEYS is set)',
    )
    assert.equal(record.attempts, 1)
  })

  void test("a run past the pool's memory cap fails with MemoryError; the worker keeps serving", async () => {
    const record = await run(envelope('py.grow', { mb: 1024 }))
    assert.equal(record.status, 'failed')
    assert.deepEqual(record.error, { code: 'GRAPH_FAILED', message: 'MemoryError', retryable: true })
    assert.equal(record.attempts, 2)
    const small = await run(envelope('py.grow', { mb: 8 }))
    assert.deepEqual(small.output, { allocated: 8 })
  })

  void test('its /healthz and /metrics speak like the node worker: the same series, refusals by reason', async () => {
    const base = /(http:\/\/127\.0\.0\.1:\d+)\/healthz/.exec(worker.output())?.[1]
    assert.ok(base, worker.output())
    const health = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(5000) })
    assert.equal(health.status, 200)
    assert.deepEqual({ ...((await health.json()) as object), pid: 0 }, { status: 'ok', pool: 'py', inFlight: 0, pid: 0 })
    const metrics = await (await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(5000) })).text()
    // py.hello: the sync-graph run and the replay test's genuine run (its two replays did not run).
    assert.equal(sampleValue(metrics, 'switchyard_runs_succeeded_total', { pool: 'py', workflow: 'py.hello' }), 2)
    assert.equal(sampleValue(metrics, 'switchyard_envelopes_rejected_total', { pool: 'py', reason: 'replay' }), 2)
    assert.equal(sampleValue(metrics, 'switchyard_runs_failed_total', { code: 'GRAPH_FAILED', pool: 'py', workflow: 'py.flaky' }), 1)
    assert.equal(sampleValue(metrics, 'switchyard_envelopes_rejected_total', { pool: 'py', reason: 'signature' }), 2)
    assert.equal(sampleValue(metrics, 'switchyard_runs_in_flight', { pool: 'py' }), 0)
  })
})

void describe('python workers, started for you', { skip }, () => {
  const trace = { traceparent: '', tracestate: '', baggage: '' }
  let redis: RedisServer
  let registry: Registry
  before(async () => {
    redis = await startRedis()
    registry = loadRegistry(config)
  })
  after(async () => {
    await redis?.stop()
  })

  void test('with --lifeline the worker exits 0 once its stdin closes (its supervisor died), even with a sync graph stuck past its deadline', async () => {
    const prefix = `py-${randomUUID().slice(0, 8)}`
    const worker = await startPythonWorker(redis.url, prefix, { SWITCHYARD_VERIFY_KEYS: VERIFY_KEYS }, ['--lifeline'])
    const broker = await RedisBroker.connect({ registry, url: redis.url, prefix, pollMs: 500 })
    try {
      const env = createEnvelope(
        route(registry, { workflow: 'py.stuck', input: { s: 60 } }),
        { runId: `stuck-${randomUUID()}`, trace, idempotencyKey: null },
        KEY,
      )
      await broker.submit(env)
      const record = await broker.wait(env.runId, { until: Date.now() + 20_000 })
      assert.equal(record.error?.code, 'DEADLINE_EXCEEDED', worker.output())
      worker.child.stdin?.end()
      assert.equal(await worker.exited(), 0, worker.output())
    } finally {
      await broker.close()
      await worker.stop()
    }
  })

  void test('switchyard worker --pool py runs the python worker in the foreground; SIGTERM drains the run in flight, then exits 0', async () => {
    const cli = join(here, '..', '..', '..', 'src', 'cli', 'worker.ts')
    const args = ['--import', 'tsx', cli, '--config', config, '--pool', 'py', '--redis', redis.url]
    const worker = await startProcess(process.execPath, args, cleanEnv({ SWITCHYARD_VERIFY_KEYS: VERIFY_KEYS }))
    const broker = await RedisBroker.connect({ registry, url: redis.url })
    try {
      const env = createEnvelope(
        route(registry, { workflow: 'py.slow', input: { ms: 1500 } }),
        { runId: `cli-${randomUUID()}`, trace, idempotencyKey: null },
        KEY,
      )
      await broker.submit(env)
      await eventually('the run to start', async () => (await broker.get(env.runId))?.status === 'running' || undefined, 20_000)
      const stopped = worker.stop()
      const record = await broker.wait(env.runId, { until: Date.now() + 20_000 })
      assert.equal(record.status, 'succeeded', worker.output())
      assert.deepEqual(record.output, { slept: 1500 })
      assert.equal(await stopped, 0, worker.output())
    } finally {
      await broker.close()
      await worker.stop()
    }
  })

  void test('the supervisor on Redis runs a python pool and restarts its worker after a crash', async () => {
    const broker = await RedisBroker.connect({ registry, url: redis.url })
    const lines: string[] = []
    const supervisor = startSupervisor({
      registry,
      broker: { kind: 'redis', broker },
      worker: { module: 'unused: this registry has no node pool', args: () => [] },
      python: pythonProgram(),
      verifyKeys: verifyKeysFor(KEY),
      sharedRedis: redis.url,
      backoff: { initialMs: 50, maxMs: 50, resetAfterMs: 60_000 },
      output: (pool, pid, line) => void lines.push(`[${pool} ${pid}] ${line}`),
    })
    const runOnce = async () => {
      const env = createEnvelope(
        route(registry, { workflow: 'py.hello', input: { name: 'Grace' } }),
        { runId: `sup-${randomUUID()}`, trace, idempotencyKey: null },
        KEY,
      )
      // Queued even while the pool's worker is starting or being replaced (a caller who waited would hear 503).
      await broker.submit(env, { async: true })
      return broker.wait(env.runId, { until: Date.now() + 30_000 })
    }
    try {
      assert.equal((await runOnce()).status, 'succeeded', lines.join('\n'))
      const [first] = supervisor.pids('py')
      assert.ok(first !== undefined)
      assert.match(await supervisor.table(), /\npy\s+1\/1\s/)
      process.kill(first, 'SIGKILL')
      const record = await runOnce()
      assert.equal(record.status, 'succeeded', lines.join('\n'))
      assert.notDeepEqual(supervisor.pids('py'), [first])
      assert.ok(
        lines.some((line) => line.includes('worker exited unexpectedly (signal SIGKILL)')),
        lines.join('\n'),
      )
    } finally {
      await supervisor.stop()
      await broker.close()
    }
  })
})

void describe('python worker behind the gateway: one trace per run', { skip }, () => {
  let redis: RedisServer
  let registry: Registry
  let broker: RedisBroker
  let gateway: Gateway
  let tracing: Tracing
  let worker: Started
  let traceDir: string
  const prefix = `py-${randomUUID().slice(0, 8)}`

  before(async () => {
    redis = await startRedis()
    registry = loadRegistry(config)
    traceDir = mkdtempSync(join(tmpdir(), 'switchyard-py-traces-'))
    broker = await RedisBroker.connect({ registry, url: redis.url, prefix, pollMs: 500 })
    gateway = await startGateway({ registry, broker, port: 0, tokens: null, signingKey: KEY, traceDir })
    tracing = initTracing({ service: SERVICE.gateway, env: { SWITCHYARD_TRACES_URL: gateway.url } })
    // As `switchyard start` sets it up: the worker exports to the gateway's receiver.
    worker = await startPythonWorker(redis.url, prefix, {
      SWITCHYARD_VERIFY_KEYS: VERIFY_KEYS,
      SWITCHYARD_TRACES_URL: gateway.url,
      OTEL_BSP_SCHEDULE_DELAY: '50',
    })
  })
  after(async () => {
    await worker?.stop()
    await tracing?.shutdown()
    await gateway?.close()
    await broker?.close()
    await redis?.stop()
    rmSync(traceDir, { recursive: true, force: true })
  })

  async function call(traceparent: string): Promise<string> {
    const res = await fetch(`${gateway.url}/v1/workflows/py.hello/run`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent },
      body: JSON.stringify({ name: 'Ada' }),
      signal: AbortSignal.timeout(20_000),
    })
    assert.equal(res.status, 200, worker.output())
    assert.equal(((await res.json()) as { greeting: string }).greeting, 'hello Ada')
    return res.headers.get('x-switchyard-trace-id') ?? ''
  }

  async function stored(traceId: string): Promise<{ status: number; spans: StoredSpan[] }> {
    const res = await fetch(`${gateway.url}/v1/traces/${traceId}`, { signal: AbortSignal.timeout(5000) })
    const body = (await res.json()) as { spans?: StoredSpan[] }
    return { status: res.status, spans: body.spans ?? [] }
  }

  void test("the python run span joins the gateway's trace, under its enqueue span, in the pool's project", async () => {
    const dropped = `00-${randomUUID().replaceAll('-', '')}-00f067aa0ba902b7-00`
    const droppedId = await call(dropped)
    const traceId = await call(`00-${randomUUID().replaceAll('-', '')}-00f067aa0ba902b7-01`)
    await tracing.forceFlush()
    const spans = await eventually(
      'the python span',
      async () => {
        const { spans } = await stored(traceId)
        return spans.some((s) => s.name === 'run py.hello') ? spans : undefined
      },
      20_000,
    )
    const run = spans.find((s) => s.name === 'run py.hello')!
    const enqueue = spans.find((s) => s.name === 'enqueue py')
    assert.ok(enqueue, spans.map((s) => s.name).join(', '))
    assert.equal(run.parentSpanId, enqueue.spanId)
    assert.equal(run.kind, 'consumer')
    assert.equal(run.service, 'switchyard-pool-py')
    assert.equal(run.project, 'test-py')
    assert.equal(run.attributes['switchyard.workflow'], 'py.hello')
    // The caller marked this one unsampled: the worker followed the flag and recorded nothing
    // (its spans are exported in order, so they would have arrived before the sampled run's).
    assert.equal((await stored(droppedId)).status, 404)
  })
})
