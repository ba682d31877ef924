// The gateway's Prometheus series, from the one table in src/control/contract/metrics.ts,
// then the process's own (prom-client's defaults, observe/metrics processMetrics): CPU,
// memory, and the event loop's delays, which show how long one burst held the one loop.
import { cacheRefusals } from '../control/index.js'
import type { Broker } from '../data/broker/index.js'
import { METRICS_CONTENT_TYPE, MetricsRegistry, processMetrics, registerMetrics, type MetricOf } from '../observe/metrics/index.js'

export { METRICS_CONTENT_TYPE }

export interface GatewayMetrics {
  readonly requests: MetricOf<'gatewayRequests'>
  readonly duration: MetricOf<'gatewayRequestDuration'>
  readonly runs: MetricOf<'gatewayRuns'>
  readonly connectionsShed: MetricOf<'gatewayConnectionsShed'>
  readonly admissionShed: MetricOf<'gatewayAdmissionShed'>
  /** Where the admission-waiting gauge reads its value at each scrape. */
  admissionWaiting(read: () => number): void
  /** Where the open-connection gauge reads its value at each scrape. */
  connections(read: () => number): void
  /** Where the held-connection gauge reads its value at each scrape. */
  held(read: () => number): void
  /**
   * Pool gauges are read from the broker at scrape time, then everything is rendered, the
   * process's series last (a scrape resets their event-loop figures: processMetrics).
   */
  render(broker: Broker): Promise<string>
}

/** `restarts`: how often the supervisor restarted the gateway before this one (it hands the count over at start). */
export function createGatewayMetrics(options: { restarts?: number } = {}): GatewayMetrics {
  const registry = new MetricsRegistry()
  const processSeries = processMetrics()
  const m = registerMetrics(registry, [
    'gatewayRequests',
    'gatewayRequestDuration',
    'gatewayRuns',
    'poolQueued',
    'poolRunning',
    'poolWorkers',
    'brokerUp',
    'registryCacheRefused',
    'gatewayRestarts',
    'gatewayConnections',
    'gatewayConnectionsHeld',
    'gatewayConnectionsShed',
    'gatewayAdmissionShed',
    'gatewayAdmissionWaiting',
    'gatewayRunsExpired',
  ])
  // A counter that outlives the process it counts: each restarted gateway starts it where the last one stopped.
  if (options.restarts) m.gatewayRestarts.inc(options.restarts)
  // The control plane counts refusals in plain numbers (it imports no metrics library): each scrape adds what is new.
  const refusedSeen = new Map<string, number>()
  // The broker counts the runs it expired the same way (Broker.expiries()).
  const expiredSeen = new Map<string, number>()
  let openConnections = (): number => 0
  let heldConnections = (): number => 0
  let waiting = (): number => 0
  return {
    connectionsShed: m.gatewayConnectionsShed,
    admissionShed: m.gatewayAdmissionShed,
    admissionWaiting(read) {
      waiting = read
    },
    connections(read) {
      openConnections = read
    },
    held(read) {
      heldConnections = read
    },
    requests: m.gatewayRequests,
    duration: m.gatewayRequestDuration,
    runs: m.gatewayRuns,
    async render(broker) {
      try {
        for (const stats of await broker.stats()) {
          m.poolQueued.set({ pool: stats.pool }, stats.queued)
          m.poolRunning.set({ pool: stats.pool }, stats.running)
          m.poolWorkers.set({ pool: stats.pool }, stats.workers)
        }
        m.brokerUp.set(1)
      } catch {
        // An unreachable broker is itself the signal: the scrape still succeeds.
        m.brokerUp.set(0)
      }
      m.gatewayConnections.set(openConnections())
      m.gatewayConnectionsHeld.set(heldConnections())
      m.gatewayAdmissionWaiting.set(waiting())
      for (const [reason, count] of cacheRefusals()) {
        const added = count - (refusedSeen.get(reason) ?? 0)
        if (added > 0) m.registryCacheRefused.inc({ reason }, added)
        refusedSeen.set(reason, count)
      }
      for (const [pool, count] of broker.expiries?.() ?? []) {
        const added = count - (expiredSeen.get(pool) ?? 0)
        if (added > 0) m.gatewayRunsExpired.inc({ pool }, added)
        expiredSeen.set(pool, count)
      }
      return (await registry.metrics()) + (await processSeries())
    },
  }
}
