// The Prometheus series of one process, registered with prom-client from the one table
// of every series (src/control/contract/metrics.ts): the gateway and each worker make
// a registry of their own and take the series they serve.
import { Counter, Gauge, Histogram, Registry } from 'prom-client'
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

export { Registry as MetricsRegistry }
