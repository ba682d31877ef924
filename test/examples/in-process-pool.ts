// Runs workflows the way production does, in this process: route() → envelope →
// embedded broker → the pool's worker (lazy graph load, deadline) → the run record.
import { randomUUID } from 'node:crypto'
import { route } from '../../src/control/index.js'
import type { Registry } from '../../src/control/index.js'
import type { RunRecord } from '../../src/data/broker/index.js'
import { createEnvelope } from '../../src/data/index.js'
import { MemoryBroker } from '../../src/data/broker/memory/index.js'
import { createWorker, type PoolWorker } from '../../src/data/worker/index.js'
import { createModel, silentLogger } from '../../src/graph/index.js'

export interface InProcessPools {
  run(workflow: string, input: unknown): Promise<RunRecord>
  close(): Promise<void>
}

const TRACE = { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', tracestate: '', baggage: '' }

export async function startPools(registry: Registry, pools: readonly string[]): Promise<InProcessPools> {
  const broker = new MemoryBroker({ pools: registry.pools.values(), retryDelayMs: 10 })
  const log = { ...silentLogger, child: () => silentLogger }
  const workers: PoolWorker[] = pools.map((pool) =>
    createWorker({
      pool,
      registry,
      source: broker.source(pool),
      verifyKeys: null,
      port: null,
      watchdogGraceMs: null,
      model: createModel('offline'),
      log,
    }),
  )
  await Promise.all(workers.map((w) => w.start()))
  return {
    async run(workflow, input) {
      const envelope = createEnvelope(
        route(registry, { workflow, input }),
        { runId: `t-${randomUUID()}`, trace: TRACE, idempotencyKey: null },
        null,
      )
      await broker.submit(envelope)
      return broker.wait(envelope.runId, { until: Date.now() + 60_000 })
    },
    async close() {
      await Promise.all(workers.map((w) => w.close()))
      await broker.close()
    },
  }
}
