// Queue depth of one pool's BullMQ queue, for a Redis worker's /metrics. Reads only
// that pool's queue, with that pool's credentials: a worker never touches another
// pool's keys (DESIGN §4).
import { Queue } from 'bullmq'
import { queueName } from '../../../control/index.js'
import { connectionFor } from './connection.js'

export interface QueueDepth {
  /** Waiting + delayed + prioritized runs; 0 when Redis does not answer. */
  read(): Promise<number>
  close(): Promise<void>
}

export function redisQueueDepth(pool: string, url: string, prefix = 'bull'): QueueDepth {
  let queue: Queue | undefined
  return {
    async read() {
      queue ??= new Queue(queueName(pool), { connection: connectionFor(url), prefix })
      const counts = await queue.getJobCounts('waiting', 'delayed', 'prioritized')
      return (counts.waiting ?? 0) + (counts.delayed ?? 0) + (counts.prioritized ?? 0)
    },
    async close() {
      await queue?.close()
    },
  }
}
