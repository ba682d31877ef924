// Every Prometheus series Switchyard serves: name, type, help and label names, in one
// table for every process and language. The gateway and the node worker register
// from it (src/observe/metrics); the Python worker declares the same series and its
// tests compare them with spec/metrics.json, which `npm run spec` writes from here.
// (Pure constants: src/client may import them.)

export type MetricType = 'counter' | 'gauge' | 'histogram'

export interface MetricInfo {
  readonly name: string
  readonly type: MetricType
  readonly help: string
  /** Label names, in the order a process declares them. */
  readonly labels: readonly string[]
  /** Who serves it: the gateway's /metrics, or every worker's (node and Python). */
  readonly served: 'gateway' | 'worker'
  /** Every value a label takes, for a label whose values are a closed set. */
  readonly labelValues?: Readonly<Record<string, readonly string[]>>
}

/**
 * Why a worker refuses an envelope without running it (the `reason` of
 * switchyard_envelopes_rejected_total), in either runtime: it does not parse (`malformed`)
 * or its signature does not verify (`signature`); it is a replay (`replay`: signed for
 * another run, or its run already finished); its workflow's files no longer compile
 * (`registry`, node only: it compiles a graph's files on first use); it is for another
 * pool or a workflow this worker does not serve (`pool`); it arrived past its deadline
 * (`deadline`). test/observe/metrics/metrics.test.ts reads both workers' sources for
 * the reasons they emit and compares them with this list.
 */
export const ENVELOPE_REJECT_REASONS = ['malformed', 'signature', 'replay', 'registry', 'pool', 'deadline'] as const
export type EnvelopeRejectReason = (typeof ENVELOPE_REJECT_REASONS)[number]

/** Histogram buckets of every duration series, in seconds (from 1 ms to 2 min). */
export const DURATION_BUCKETS: readonly number[] = [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120]

export const METRICS = {
  gatewayRequests: {
    name: 'switchyard_gateway_requests_total',
    type: 'counter',
    help: 'HTTP requests by route and status.',
    labels: ['method', 'route', 'status'],
    served: 'gateway',
  },
  gatewayRequestDuration: {
    name: 'switchyard_gateway_request_duration_seconds',
    type: 'histogram',
    help: 'HTTP request duration by route.',
    labels: ['route'],
    served: 'gateway',
  },
  gatewayRuns: {
    name: 'switchyard_gateway_runs_total',
    type: 'counter',
    help: 'Runs submitted through the gateway, by workflow, pool and outcome.',
    labels: ['workflow', 'pool', 'outcome'],
    served: 'gateway',
  },
  poolQueued: {
    name: 'switchyard_pool_queued',
    type: 'gauge',
    help: 'Runs waiting in each pool queue.',
    labels: ['pool'],
    served: 'gateway',
  },
  poolRunning: {
    name: 'switchyard_pool_running',
    type: 'gauge',
    help: 'Runs executing in each pool.',
    labels: ['pool'],
    served: 'gateway',
  },
  poolWorkers: {
    name: 'switchyard_pool_workers',
    type: 'gauge',
    help: 'Workers consuming each pool.',
    labels: ['pool'],
    served: 'gateway',
  },
  registryCacheRefused: {
    name: 'switchyard_registry_cache_refused_total',
    type: 'counter',
    help: "Files of the compiled registry's cache this process refused to trust, execute or follow (tampered, unsigned, a sub-folder that is a link), by reason.",
    labels: ['reason'],
    served: 'gateway',
  },
  gatewayRestarts: {
    name: 'switchyard_gateway_restarts_total',
    type: 'counter',
    help: 'Times `switchyard start` restarted the gateway after it exited unexpectedly, this session (handed to each new gateway by the supervisor; 0 when not supervised).',
    labels: [],
    served: 'gateway',
  },
  gatewayConnections: {
    name: 'switchyard_gateway_connections',
    type: 'gauge',
    help: 'HTTP connections open to the gateway.',
    labels: [],
    served: 'gateway',
  },
  gatewayConnectionsHeld: {
    name: 'switchyard_gateway_connections_held',
    type: 'gauge',
    help: 'Connections read in turns, a few at a time: answered 429 (until their caller stops), or new past a few per turn (until their first request).',
    labels: [],
    served: 'gateway',
  },
  gatewayConnectionsShed: {
    name: 'switchyard_gateway_connections_shed_total',
    type: 'counter',
    help: 'Connections the gateway closed to stay under its cap: evicted (the longest idle or still sending its headers, to make room) or full (dropped on arrival, every connection busy).',
    labels: ['reason'],
    served: 'gateway',
  },
  gatewayAdmissionShed: {
    name: 'switchyard_gateway_admission_shed_total',
    type: 'counter',
    help: "Run submissions refused 429 TOO_MANY_REQUESTS before anything was read: their caller's queue for the pool at the gateway was full (fair admission).",
    labels: ['pool'],
    served: 'gateway',
  },
  gatewayRunsExpired: {
    name: 'switchyard_gateway_runs_expired_total',
    type: 'counter',
    help: 'Queued runs this gateway ended at their deadline because no worker took them before it (failed DEADLINE_EXCEEDED, or WORKER_LOST for a run re-queued after its worker died).',
    labels: ['pool'],
    served: 'gateway',
  },
  gatewayAdmissionWaiting: {
    name: 'switchyard_gateway_admission_waiting',
    type: 'gauge',
    help: 'Run submissions waiting at the gateway for a place in the admission part (body, route(), signature, the broker), all callers and pools together.',
    labels: [],
    served: 'gateway',
  },
  brokerUp: {
    name: 'switchyard_broker_up',
    type: 'gauge',
    help: '1 when the broker answered the last scrape.',
    labels: [],
    served: 'gateway',
  },
  runsStarted: {
    name: 'switchyard_runs_started_total',
    type: 'counter',
    help: 'Runs started by this worker, by workflow.',
    labels: ['pool', 'workflow'],
    served: 'worker',
  },
  runsSucceeded: {
    name: 'switchyard_runs_succeeded_total',
    type: 'counter',
    help: 'Runs that succeeded, by workflow.',
    labels: ['pool', 'workflow'],
    served: 'worker',
  },
  runsFailed: {
    name: 'switchyard_runs_failed_total',
    type: 'counter',
    help: 'Run attempts that failed, by workflow and error code.',
    labels: ['pool', 'workflow', 'code'],
    served: 'worker',
  },
  runDuration: {
    name: 'switchyard_run_duration_seconds',
    type: 'histogram',
    help: 'Run attempt duration, by workflow and outcome.',
    labels: ['pool', 'workflow', 'outcome'],
    served: 'worker',
  },
  runsInFlight: {
    name: 'switchyard_runs_in_flight',
    type: 'gauge',
    help: 'Runs executing in this worker now.',
    labels: ['pool'],
    served: 'worker',
  },
  queueDepth: {
    name: 'switchyard_queue_depth',
    type: 'gauge',
    help: "Runs waiting in the broker for this worker's pool.",
    labels: ['pool'],
    served: 'worker',
  },
  envelopesRejected: {
    name: 'switchyard_envelopes_rejected_total',
    type: 'counter',
    help: `Envelopes refused without running, by reason (${ENVELOPE_REJECT_REASONS.join(', ')}).`,
    labels: ['pool', 'reason'],
    served: 'worker',
    labelValues: { reason: ENVELOPE_REJECT_REASONS },
  },
} as const satisfies Record<string, MetricInfo>

export type MetricKey = keyof typeof METRICS
