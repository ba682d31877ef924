// Prometheus series for the gateway and the workers (prom-client).
export { registerMetrics, processMetrics, METRICS_CONTENT_TYPE, MetricsRegistry, type MetricOf } from './prometheus.js'
