// How many workers serve a pool's queue, from the names of their Redis connections
// (CLIENT LIST). BullMQ's own count (Queue.getWorkersCount) knows only how its Node
// workers name a connection, `<prefix>:<base64 of the queue>`; BullMQ for Python
// names it `<prefix>:<queue>` (plus `:w:<worker name>`) and names every connection of
// the worker so. The Python worker gives each process its own worker name, so
// there it is distinct names that count, one per process.
import type { Queue } from 'bullmq'

/** One line per connection: `id=… addr=… name=… …` (CLIENT LIST). */
export function countWorkers(clientList: string, prefix: string, queue: string): number {
  const node = `${prefix}:${Buffer.from(queue).toString('base64')}`
  const python = `${prefix}:${queue}`
  let nodeConnections = 0
  const pythonNames = new Set<string>()
  for (const line of clientList.split(/\r?\n/)) {
    const name = / name=(\S*)/.exec(` ${line}`)?.[1]
    if (!name) continue
    if (name === node || name.startsWith(`${node}:w:`)) nodeConnections += 1
    else if (name === python || name.startsWith(`${python}:w:`)) pythonNames.add(name)
  }
  return nodeConnections + pythonNames.size
}

/** Workers of both runtimes on `queue`'s Redis; 0 when CLIENT LIST is not allowed (an ACL user without it). */
export async function workerCount(queue: Queue, prefix: string): Promise<number> {
  try {
    const client = await queue.client
    return countWorkers(await client.clientList(), prefix, queue.name)
  } catch {
    return 0
  }
}
