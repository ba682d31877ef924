// The gateway's Prometheus series, on the shared tiny registry (src/observe/metrics/metrics.ts).
import type { Broker } from '../data/broker/index.js'
import { METRICS_CONTENT_TYPE, MetricsRegistry, type Counter, type Gauge, type Histogram } from '../observe/metrics/index.js'

export { METRICS_CONTENT_TYPE }

export interface GatewayMetrics {
  readonly requests: Counter
  readonly duration: Histogram
  readonly runs: Counter
  /** Pool gauges are read from the broker at scrape time, then everything is rendered. */
  render(broker: Broker): Promise<string>
}

export function createGatewayMetrics(): GatewayMetrics {
  const registry = new MetricsRegistry()
  const requests = registry.counter('switchyard_gateway_requests_total', 'HTTP requests by route and status.')
  const duration = registry.histogram('switchyard_gateway_request_duration_seconds', 'HTTP request duration by route.')
  const runs = registry.counter('switchyard_gateway_runs_total', 'Runs submitted through the gateway, by workflow, pool and outcome.')
  const queued: Gauge = registry.gauge('switchyard_pool_queued', 'Runs waiting in each pool queue.')
  const running: Gauge = registry.gauge('switchyard_pool_running', 'Runs executing in each pool.')
  const workers: Gauge = registry.gauge('switchyard_pool_workers', 'Workers consuming each pool.')
  const up: Gauge = registry.gauge('switchyard_broker_up', '1 when the broker answered the last scrape.')
  return {
    requests,
    duration,
    runs,
    async render(broker) {
      try {
        for (const stats of await broker.stats()) {
          queued.set(stats.queued, { pool: stats.pool })
          running.set(stats.running, { pool: stats.pool })
          workers.set(stats.workers, { pool: stats.pool })
        }
        up.set(1)
      } catch {
        // An unreachable broker is itself the signal: the scrape still succeeds.
        up.set(0)
      }
      return registry.render()
    },
  }
}
