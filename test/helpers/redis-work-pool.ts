// The set-up of the Redis broker tests that plant state behind the broker's back (a claim
// a dead gateway left, a run from an older broker): the broker contract registry's `work`
// pool on a real redis-server under a fresh key prefix, a run source serving it with the
// test's handler, and a raw BullMQ Queue on the same keys. One place, so each test file
// holds only what it plants and what it asserts.
import { randomUUID } from 'node:crypto'

import { Queue } from 'bullmq'

import type { RoutePlan } from '../../src/control/index.js'
import type { RunSource } from '../../src/data/broker/index.js'
import { RedisBroker, redisRunSource } from '../../src/data/broker/redis/index.js'
import { poolKeys } from '../../src/data/broker/redis/keys.js'
import { createEnvelope, type Envelope } from '../../src/data/index.js'
import { contractRegistry } from '../data/broker/broker.contract.js'
import { poolLive } from './pool-live.js'

type RunHandler = Parameters<RunSource['start']>[0]
type BrokerOptions = Omit<Parameters<typeof RedisBroker.connect>[0], 'registry' | 'url' | 'prefix'>

export interface StartOnRedis {
  readonly url: string
  /** Names the key prefix (`<tag>-<random>`): which test's keys these are. */
  readonly tag: string
  /** RedisBroker options beyond registry, url and prefix. */
  readonly broker?: BrokerOptions
  /** What the pool's worker does with a run; it runs `concurrency` at a time (default 1). */
  readonly handler: RunHandler
  readonly concurrency?: number
}

export interface WorkPoolOnRedis {
  readonly broker: RedisBroker
  readonly source: RunSource
  /** BullMQ's own queue of pool `work`, and its raw client, to plant or read keys as another party would. */
  readonly queue: Queue
  readonly client: { call(...args: string[]): Promise<unknown> }
  readonly keys: ReturnType<typeof poolKeys>
  close(): Promise<void>
}

/**
 * Broker, worker and raw queue of pool `work`, resolved once the worker is live (a run
 * for a pool without one is refused on Redis).
 *
 * @example const pool = await startOnRedis({ url, tag: 'cw', handler: async () => ({ ok: true, output: 1 }) })
 */
export async function startOnRedis(config: StartOnRedis): Promise<WorkPoolOnRedis> {
  const { url } = config
  const prefix = `${config.tag}-${randomUUID().slice(0, 8)}`
  const broker = await RedisBroker.connect({ registry: contractRegistry(), url, prefix, ...config.broker })
  const source = redisRunSource('work', { url, prefix })
  source.start(config.handler, { concurrency: config.concurrency ?? 1 })
  const queue = new Queue('switchyard.work', { connection: { url }, prefix })
  const close = async () => {
    await queue.close()
    await source.close()
    await broker.close()
  }
  try {
    await poolLive(broker, 'work')
    const client = (await queue.client) as unknown as WorkPoolOnRedis['client']
    return { broker, source, queue, client, keys: poolKeys(prefix, 'switchyard.work'), close }
  } catch (error) {
    await close()
    throw error
  }
}

/** A plan of `contract.echo` in pool `work` with one attempt (a retry must not be what saves a run). */
function workPlan(input: unknown, timeoutMs = 30_000): RoutePlan {
  return {
    workflow: 'contract.echo',
    pool: 'work',
    queue: 'switchyard.work',
    runtime: 'node',
    graph: 'contract/graph.ts#graph',
    prompt: null,
    input,
    timeoutMs,
    deadline: new Date(Date.now() + timeoutMs).toISOString(),
    retry: { maxAttempts: 1, backoff: { type: 'exponential', delayMs: 10 } },
    tracing: { project: 'p', sampleRate: 1, capture: 'full', redact: [] },
    registry: `sha256:${'c'.repeat(64)}`,
  }
}

/** An unsigned envelope of workPlan(input) with run id `<tag>-<uuid>` and idempotency key `key`. */
export function workEnvelope(tag: string, key: string | null, input: unknown = { order: 42 }, timeoutMs?: number): Envelope {
  return createEnvelope(
    workPlan(input, timeoutMs),
    { runId: `${tag}-${randomUUID()}`, trace: { traceparent: '', tracestate: '', baggage: '' }, idempotencyKey: key },
    null,
  )
}
