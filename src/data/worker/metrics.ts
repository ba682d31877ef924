// The worker's Prometheus series (served on its /metrics).
import { MetricsRegistry, type Counter, type Gauge, type Histogram } from '../../observe/metrics/index.js'

export interface WorkerMetrics {
  readonly registry: MetricsRegistry
  /** {pool, workflow} */
  readonly started: Counter
  /** {pool, workflow} */
  readonly succeeded: Counter
  /** {pool, workflow, code} */
  readonly failed: Counter
  /** {pool, workflow, outcome}, seconds */
  readonly duration: Histogram
  /** {pool} */
  readonly inFlight: Gauge
  /** {pool}: runs waiting in the broker for this pool */
  readonly queueDepth: Gauge
  /** {pool, reason}: malformed · signature · pool · deadline */
  readonly rejected: Counter
}

export function createWorkerMetrics(): WorkerMetrics {
  const registry = new MetricsRegistry()
  return {
    registry,
    started: registry.counter('switchyard_runs_started_total', 'Runs started by this worker, by workflow.'),
    succeeded: registry.counter('switchyard_runs_succeeded_total', 'Runs that succeeded, by workflow.'),
    failed: registry.counter('switchyard_runs_failed_total', 'Run attempts that failed, by workflow and error code.'),
    duration: registry.histogram('switchyard_run_duration_seconds', 'Run attempt duration, by workflow and outcome.'),
    inFlight: registry.gauge('switchyard_runs_in_flight', 'Runs executing in this worker now.'),
    queueDepth: registry.gauge('switchyard_queue_depth', "Runs waiting in the broker for this worker's pool."),
    rejected: registry.counter(
      'switchyard_envelopes_rejected_total',
      'Envelopes refused without running, by reason (malformed, signature, pool, deadline).',
    ),
  }
}
