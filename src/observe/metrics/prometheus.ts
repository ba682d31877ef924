// The Prometheus series of one process, registered with prom-client from the one table
// of every series (src/control/contract/metrics.ts): the gateway and each worker make
// a registry of their own and take the series they serve. Beside them each serves the
// process's own series (prom-client's defaults: CPU, memory, event-loop delay, heap, GC),
// from one registry per process (processMetrics below).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import { DURATION_BUCKETS, METRICS, type MetricKey } from '../../control/index.js'

/** Content-Type of the text exposition format (version 0.0.4). */
export const METRICS_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE

type LabelOf<K extends MetricKey> = (typeof METRICS)[K]['labels'][number]
type TypeOf<K extends MetricKey> = (typeof METRICS)[K]['type']

/** The prom-client class of a series in the table, with its label names as the label type. */
export type MetricOf<K extends MetricKey> =
  TypeOf<K> extends 'counter' ? Counter<LabelOf<K>> : TypeOf<K> extends 'gauge' ? Gauge<LabelOf<K>> : Histogram<LabelOf<K>>

/**
 * Register the series named by `keys` in `registry`, typed by their label names.
 *
 * @example
 * const registry = new Registry()
 * const { runsStarted } = registerMetrics(registry, ['runsStarted'])
 * runsStarted.labels({ pool: 'email', workflow: 'email.compose' }).inc()
 * res.setHeader('content-type', METRICS_CONTENT_TYPE).end(await registry.metrics())
 */
export function registerMetrics<K extends MetricKey>(registry: Registry, keys: readonly K[]): { readonly [P in K]: MetricOf<P> } {
  const made: Partial<Record<MetricKey, Counter | Gauge | Histogram>> = {}
  for (const key of keys) {
    const { name, help, labels, type } = METRICS[key]
    const config = { name, help, labelNames: labels, registers: [registry] }
    made[key] =
      type === 'counter'
        ? new Counter(config)
        : type === 'gauge'
          ? new Gauge(config)
          : new Histogram({ ...config, buckets: [...DURATION_BUCKETS] })
  }
  return made as { readonly [P in K]: MetricOf<P> }
}

/** Resolution (ms) of the event-loop delay monitor: prom-client's default. */
const EVENT_LOOP_RESOLUTION_MS = 10

let processRegistry: Registry | undefined

/**
 * The process's own series, prom-client's defaults (process_cpu_seconds_total,
 * process_resident_memory_bytes, nodejs_eventloop_lag_*_seconds, nodejs_heap_*,
 * nodejs_gc_duration_seconds, ...): the first call starts collecting them, once per
 * process, and each call returns what renders them. Once per process, not once per
 * gateway or worker registry: collectDefaultMetrics starts an event-loop delay monitor
 * (a timer every EVENT_LOOP_RESOLUTION_MS) and a GC observer that prom-client never
 * stops, so one per registry would leave one of each behind every closed gateway of a
 * process that makes many (the tests). Neither keeps the process alive (the monitor's
 * timer is unref'd). They are the process's figures whoever serves them.
 *
 * The event-loop figures (nodejs_eventloop_lag_{min,max,mean,stddev,p50,p90,p99}_seconds)
 * come from one perf_hooks histogram that prom-client resets at every collect: a scrape's
 * nodejs_eventloop_lag_max_seconds is the longest gap between two of the monitor's ticks
 * since the previous scrape of any of this process's /metrics (since the first call,
 * for the first scrape): the longest stall of the loop plus up to one tick, so about
 * 0.011 on an idle loop, and 0 from a scrape less than a tick after the last one. Node
 * times again from the first tick after a reset: a stall that begins before it (within
 * a tick of the scrape) is not seen by any scrape.
 * nodejs_eventloop_lag_seconds is the delay of a setImmediate queued at the previous
 * scrape (prom-client sets it after it renders).
 */
export function processMetrics(): () => Promise<string> {
  if (processRegistry === undefined) {
    processRegistry = new Registry()
    collectDefaultMetrics({ register: processRegistry, eventLoopMonitoringPrecision: EVENT_LOOP_RESOLUTION_MS })
  }
  const registry = processRegistry
  return () => registry.metrics()
}

export { Registry as MetricsRegistry }
