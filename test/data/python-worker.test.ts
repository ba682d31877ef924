// The Python pool worker (python/switchyard_worker) end to end on real Redis: the
// TypeScript RedisBroker submits signed envelopes made by route() + createEnvelope,
// `python3 -m switchyard_worker` runs the python graphs, the results come back in the
// shape the TypeScript side reads (stamped output, attempts, structured errors), and
// an envelope that did not come through the routing contract is refused without retry.
import assert from 'node:assert/strict'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { dirname, join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'

import { loadRegistry, route } from '../../src/control/index.js'
import type { Registry } from '../../src/control/types.js'
import { createEnvelope, type Envelope } from '../../src/data/envelope.js'
import { RedisBroker } from '../../src/data/redis-broker.js'
import { redisSkip, startRedis, type RedisServer } from '../helpers/redis.js'

const here = dirname(fileURLToPath(import.meta.url))
const pythonDir = join(here, '..', '..', 'python')
const config = join(here, '..', 'fixtures', 'python', 'switchyard.yaml')
const KEY = 'python-worker-test-key'

/** Skip reason, or false; in CI (where .ci/run installs python/requirements.txt) a missing piece fails. */
function pythonSkip(): string | false {
  const probe = spawnSync('python3', ['-c', 'import bullmq, yaml, opentelemetry.sdk'], { encoding: 'utf8' })
  if (probe.status === 0) return false
  const reason = `python3 with python/requirements.txt is not importable (python3 -m pip install -r python/requirements.txt): ${(probe.stderr ?? String(probe.error)).trim().split('\n').pop()}`
  if (process.env.CI) throw new Error(reason)
  return reason
}

const skip = redisSkip() || pythonSkip()

interface PythonWorker {
  readonly child: ChildProcess
  output(): string
  stop(): Promise<void>
}

/** Start `python3 -m switchyard_worker` for pool py; resolves once it says it is serving. */
async function startPythonWorker(url: string, prefix: string, env: Record<string, string>): Promise<PythonWorker> {
  // The pool's env only: no exporter settings leak in from the test runner.
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OTEL_') && !k.startsWith('SWITCHYARD_')))
  const child = spawn('python3', ['-m', 'switchyard_worker', '--config', config, '--pool', 'py', '--redis', url, '--prefix', prefix], {
    cwd: pythonDir,
    env: { ...base, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let log = ''
  child.stdout?.on('data', (chunk: Buffer) => (log += chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()))
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the python worker did not start:\n${log}`)), 20_000)
    child.stdout?.on('data', () => {
      if (log.includes('switchyard python worker:')) {
        clearTimeout(timer)
        resolve()
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`the python worker exited with ${code}:\n${log}`))
    })
  })
  return {
    child,
    output: () => log,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(timer)
    },
  }
}

void describe('python worker on Redis', { skip }, () => {
  let redis: RedisServer
  let registry: Registry
  let broker: RedisBroker
  let worker: PythonWorker
  const prefix = `py-${randomUUID().slice(0, 8)}`
  const trace = { traceparent: '', tracestate: '', baggage: '' }

  before(async () => {
    redis = await startRedis()
    registry = loadRegistry(config)
    broker = await RedisBroker.connect({ registry, url: redis.url, prefix, backoffMs: 10, pollMs: 500 })
    worker = await startPythonWorker(redis.url, prefix, { SWITCHYARD_SIGNING_KEY: KEY })
  })
  after(async () => {
    await worker?.stop()
    await broker?.close()
    await redis?.stop()
  })

  function envelope(workflow: string, input: unknown, key: string | null = KEY): Envelope {
    return createEnvelope(route(registry, { workflow, input }), { runId: `py-${randomUUID()}`, trace, idempotencyKey: null }, key)
  }

  async function run(env: Envelope) {
    await broker.submit(env)
    return broker.wait(env.runId, { until: Date.now() + 20_000 })
  }

  void test('a signed run of a sync python graph comes back as its flat output, with its prompt and run facts', async () => {
    const env = envelope('py.hello', { name: 'Ada' })
    const record = await run(env)
    assert.equal(record.status, 'succeeded', worker.output())
    assert.deepEqual(record.output, {
      greeting: 'hello Ada', runId: env.runId, workflow: 'py.hello', attempt: 1, prompt: 'Greet {{name}} warmly.',
    })
    assert.equal(record.attempts, 1)
    assert.ok(record.startedAt !== undefined && record.finishedAt !== undefined && record.finishedAt >= record.startedAt)
  })

  void test('an async python graph runs too; its numbers come back as numbers', async () => {
    const record = await run(envelope('py.shout', { text: 'quiet' }))
    assert.equal(record.status, 'succeeded', worker.output())
    assert.deepEqual(record.output, { text: 'QUIET', ratio: 1e-7 })
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
      message: 'invalid envelope: signature does not match (the envelope was altered, or signed with another key)',
      retryable: false,
    })
    assert.equal(record.attempts, 1)
    assert.equal(record.deadLettered, true)
  })

  void test('an unsigned envelope put on the queue is refused at once, without retry', async () => {
    const record = await run(envelope('py.hello', { name: 'Ada' }, null))
    assert.equal(record.status, 'failed')
    assert.equal(record.error?.code, 'INVALID_ENVELOPE')
    assert.equal(
      record.error?.message,
      'invalid envelope: missing signature (sig is empty and this worker requires SWITCHYARD_SIGNING_KEY signatures)',
    )
    assert.equal(record.attempts, 1)
  })
})
