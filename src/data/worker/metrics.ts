// The worker's Prometheus series (served on its /metrics), from the one table in
// src/control/contract/metrics.ts: the Python worker serves the same names and labels.
import { MetricsRegistry, registerMetrics } from '../../observe/metrics/index.js'

const WORKER_SERIES = [
  'runsStarted',
  'runsSucceeded',
  'runsFailed',
  'runDuration',
  'runsInFlight',
  'queueDepth',
  'envelopesRejected',
] as const

export type WorkerMetrics = ReturnType<typeof registerMetrics<(typeof WORKER_SERIES)[number]>> & { readonly registry: MetricsRegistry }

export function createWorkerMetrics(): WorkerMetrics {
  const registry = new MetricsRegistry()
  return { registry, ...registerMetrics(registry, WORKER_SERIES) }
}
