// Queue depth of one pool's BullMQ queue, for a Redis worker's /metrics. Reads only
// that pool's queue, with that pool's credentials: a worker never touches another
// pool's keys (DESIGN §4).
import { Queue } from 'bullmq'
import { queueName } from '../../../control/index.js'
import { closeBounded, connectionFor, within } from './connection.js'

export interface QueueDepth {
  /**
   * Waiting + delayed + prioritized runs. Rejects at once while Redis cannot be asked, and
   * after READ_BOUND_MS without an answer: a scrape keeps the last figure, and is answered.
   */
  read(): Promise<number>
  close(): Promise<void>
}

/** How long a scrape waits for the figure. */
const READ_BOUND_MS = 2000

export function redisQueueDepth(pool: string, url: string, prefix = 'bull'): QueueDepth {
  let queue: Queue | undefined
  return {
    async read() {
      // Fail-fast: a read sent while Redis is away would wait for it (connectionFor's
      // commands do), and each scrape would leave one more behind it.
      if (!queue) {
        queue = new Queue(queueName(pool), { connection: connectionFor(url, { failFast: true }), prefix })
        queue.on('error', () => undefined)
      }
      const counts = await within(queue.getJobCounts('waiting', 'delayed', 'prioritized'), READ_BOUND_MS, `pool '${pool}': queue depth`)
      return (counts.waiting ?? 0) + (counts.delayed ?? 0) + (counts.prioritized ?? 0)
    },
    async close() {
      if (queue) await closeBounded(queue, READ_BOUND_MS)
    },
  }
}
