// The worker's Prometheus series (served on its /metrics), from the one table in
// src/control/contract/metrics.ts: the Python worker serves the same names and labels.
// Then the process's own series (prom-client's defaults, observe/metrics processMetrics).
import { MetricsRegistry, processMetrics, registerMetrics } from '../../observe/metrics/index.js'

const WORKER_SERIES = [
  'runsStarted',
  'runsSucceeded',
  'runsFailed',
  'runDuration',
  'runsInFlight',
  'queueDepth',
  'envelopesRejected',
] as const

export type WorkerMetrics = ReturnType<typeof registerMetrics<(typeof WORKER_SERIES)[number]>> & {
  /** The worker's own series (the table's). */
  readonly registry: MetricsRegistry
  /** The text of /metrics: the registry's series, then the process's. */
  render(): Promise<string>
}

export function createWorkerMetrics(): WorkerMetrics {
  const registry = new MetricsRegistry()
  const processSeries = processMetrics()
  return {
    registry,
    render: async () => (await registry.metrics()) + (await processSeries()),
    ...registerMetrics(registry, WORKER_SERIES),
  }
}
