// The ways the data-plane bench sends a no-op run, each with the same worker
// concurrency: raw BullMQ; Switchyard on Redis through the real `switchyard worker`
// process; the same broker with a verify-only worker (the broker's share of the
// cost); Switchyard in memory with the pool worker in-process.
import { spawn, type ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'

import { Queue, QueueEvents } from 'bullmq'

import { route } from '../../src/control/index.js'
import type { Registry } from '../../src/control/index.js'
import { createEnvelope, generateSigningKey, verifyKeysFor } from '../../src/data/index.js'
import type { Broker } from '../../src/data/broker/index.js'
import { MemoryBroker } from '../../src/data/broker/memory/index.js'
import { RedisBroker } from '../../src/data/broker/redis/index.js'
import { createWorker } from '../../src/data/worker/index.js'

export interface Mode {
  readonly name: string
  /** One run, end to end; resolves when its result is back. */
  run(): Promise<void>
  close(): Promise<void>
}

export const SIGNING_KEY = generateSigningKey()
export const POOL = 'bench'
export const WORKFLOW = 'bench.noop'

/** A silent logger: the bench measures the data plane, not log formatting. */
const quiet = Object.assign({ debug() {}, info() {}, warn() {}, error() {} }, { child: () => quiet })

const RAW_WORKER = fileURLToPath(new URL('./raw-worker.ts', import.meta.url))
const CLI_WORKER = fileURLToPath(new URL('../../src/cli/worker.ts', import.meta.url))

/** Start a worker process and resolve once it prints `ready` (bounded). */
async function spawnWorker(args: string[], ready: RegExp, env: NodeJS.ProcessEnv = {}): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { PATH: process.env.PATH, SWITCHYARD_BENCH_MODEL_DELAY_MS: process.env.SWITCHYARD_BENCH_MODEL_DELAY_MS ?? '0', ...env },
  })
  let out = ''
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker did not start: ${out}`)), 30_000)
    const onData = (chunk: Buffer) => {
      out += chunk.toString()
      if (ready.test(out)) {
        clearTimeout(timer)
        child.stdout!.off('data', onData)
        child.stdout!.resume()
        resolve()
      }
    }
    child.stdout!.on('data', onData)
    child.once('exit', (code) => reject(new Error(`worker exited (${code}): ${out}`)))
  })
  return child
}

async function stopWorker(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = once(child, 'exit')
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
  await exited
  clearTimeout(timer)
}

/** queue.add + job.waitUntilFinished; a BullMQ Worker process whose processor returns at once. */
export async function rawBullmq(url: string, concurrency: number): Promise<Mode> {
  const prefix = `raw-${randomUUID().slice(0, 8)}`
  const connection = { url }
  const queue = new Queue('raw', { connection, prefix })
  const events = new QueueEvents('raw', { connection, prefix })
  await Promise.all([queue.waitUntilReady(), events.waitUntilReady()])
  const worker = await spawnWorker([RAW_WORKER, 'bullmq', url, prefix, 'raw', String(concurrency)], /ready/)
  return {
    name: 'raw BullMQ',
    async run() {
      const job = await queue.add('noop', { input: {} }, { removeOnComplete: { age: 3600 }, removeOnFail: { age: 3600 } })
      await job.waitUntilFinished(events, 30_000)
    },
    async close() {
      await stopWorker(worker)
      await Promise.all([events.close(), queue.close()])
    },
  }
}

/**
 * A fresh trace per run; unsampled, so the bench measures the data plane, not span export.
 * Ids come from randomUUID (batched entropy): two randomBytes calls cost the producer
 * more per run than signing the envelope, a cost of the harness, not of Switchyard.
 */
function trace() {
  const traceId = randomUUID().replaceAll('-', '')
  const spanId = randomUUID().replaceAll('-', '').slice(0, 16)
  return {
    traceparent: `00-${traceId}-${spanId}-00`,
    tracestate: '',
    baggage: '',
  }
}

/** route() → createEnvelope (signed) → broker.submit → … → broker.wait. */
function producer(name: string, registry: Registry, broker: Broker, close: () => Promise<void>): Mode {
  return {
    name,
    async run() {
      const plan = route(registry, { workflow: WORKFLOW, input: {} })
      const envelope = createEnvelope(plan, { runId: randomUUID(), trace: trace(), idempotencyKey: null }, SIGNING_KEY)
      const { runId } = await broker.submit(envelope)
      const record = await broker.wait(runId, { until: Date.parse(envelope.deadline) })
      if (record.status !== 'succeeded') throw new Error(`run ${runId} ended ${record.status}: ${JSON.stringify(record.error)}`)
    },
    close,
  }
}

/** The real `switchyard worker --pool bench --redis URL` process (verify, lazy graph, deadline, metrics). */
export async function switchyardRedis(url: string, registry: Registry): Promise<Mode> {
  const broker = await RedisBroker.connect({ registry, url })
  const worker = await spawnWorker([CLI_WORKER, '--pool', POOL, '--redis', url, '--config', registry.source], /switchyard worker: pool/, {
    SWITCHYARD_VERIFY_KEYS: SIGNING_KEY.publicKey,
  })
  return producer('Switchyard redis', registry, broker, async () => {
    await stopWorker(worker)
    await broker.close()
  })
}

/** RedisBroker and redisRunSource with a verify-only handler: the broker's cost without the pool worker runtime. */
export async function switchyardRedisBare(url: string, registry: Registry, concurrency: number): Promise<Mode> {
  const prefix = `bare-${randomUUID().slice(0, 8)}`
  const broker = await RedisBroker.connect({ registry, url, prefix })
  const worker = await spawnWorker([RAW_WORKER, 'source', url, prefix, POOL, String(concurrency), SIGNING_KEY.publicKey], /ready/)
  return producer('  broker only', registry, broker, async () => {
    await stopWorker(worker)
    await broker.close()
  })
}

/** The embedded broker with the pool worker in the same process (what `switchyard dev` runs in-process). */
export async function switchyardMemory(registry: Registry, concurrency: number): Promise<Mode> {
  const broker = new MemoryBroker({ pools: registry.pools.values() })
  const worker = createWorker({
    pool: POOL,
    registry,
    source: broker.source(POOL),
    verifyKeys: verifyKeysFor(SIGNING_KEY),
    concurrency,
    log: quiet,
  })
  await worker.start()
  return producer('Switchyard memory', registry, broker, async () => {
    await worker.drain()
    await broker.close()
  })
}
