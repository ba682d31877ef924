// Wait until a broker counts a live worker of a pool (on Redis: its first heartbeat is
// in; a run for a pool without one is refused at once unless it was asked to queue).
import type { Broker } from '../../src/data/broker/index.js'
import { eventually } from './eventually.js'

export async function poolLive(broker: Broker, pool: string, timeoutMs = 30_000): Promise<void> {
  await eventually(
    `a live worker of pool '${pool}'`,
    async () => ((await broker.stats()).find((s) => s.pool === pool)?.workers ?? 0) > 0,
    timeoutMs,
  )
}
