// Prometheus series for the gateway and the workers.
export { MetricsRegistry, METRICS_CONTENT_TYPE, type Counter, type Gauge, type Histogram } from './metrics.js'
