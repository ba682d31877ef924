// closeBounded() on a BullMQ object whose connection never came up. BullMQ 5 rejects a
// promise nobody holds when a connection closed mid-connect, after an earlier try failed,
// fails afterwards: an unhandled rejection (the earlier try's error), which fails a test
// run and, under Node's default, ends the process. CI met it as a stray ECONNREFUSED after
// "an unreachable Redis fails connect()" (a loaded machine widens the moment a connect is
// under way); a Redis host that drops packets (each connect under way for 10 s) meets it at
// every close. Here a server makes that moment long: it resets the first connection at
// once and holds every later one 3 s before resetting it, so a close 300 ms in, or a
// second and more in, lands mid-connect.
import assert from 'node:assert/strict'
import { createServer, type Socket } from 'node:net'
import { test } from 'node:test'

import { Queue, Worker } from 'bullmq'

import { closeBounded, connectionFor } from '../../../../src/data/broker/redis/connection.js'

/** A server that is never Redis: it resets its first connection at once, every later one after `holdMs`. */
async function slowRefuser(holdMs: number): Promise<{ url: string; connections: () => number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>()
  let connections = 0
  const server = createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => undefined)
    socket.resume()
    if (connections++ === 0) socket.resetAndDestroy()
    else setTimeout(() => socket.resetAndDestroy(), holdMs).unref()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  return {
    url: `redis://127.0.0.1:${port}`,
    connections: () => connections,
    close: async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/** Unhandled rejections while `body` runs, and for a moment after. */
async function strays(body: () => Promise<void>): Promise<unknown[]> {
  const seen: unknown[] = []
  const listener = (reason: unknown) => seen.push(reason)
  process.on('unhandledRejection', listener)
  try {
    await body()
    await new Promise((resolve) => setTimeout(resolve, 3500))
  } finally {
    process.off('unhandledRejection', listener)
  }
  return seen
}

void test('a Queue and a Worker that never connected close mid-connect without a stray rejection, and stop trying', async () => {
  const server = await slowRefuser(3000)
  try {
    const queue = new Queue('switchyard.close-bounded', { connection: connectionFor(server.url, { failFast: true }) })
    const worker = new Worker('switchyard.close-bounded', null, { connection: connectionFor(server.url), autorun: false })
    const errors: Error[] = []
    queue.on('error', (error) => errors.push(error))
    worker.on('error', (error) => errors.push(error))
    const seen = await strays(async () => {
      await Promise.all([closeBounded(queue, 300), closeBounded(worker, 300, { force: true })])
    })
    assert.deepEqual(
      seen.map((reason) => String(reason)),
      [],
    )
    assert.ok(errors.length > 0, 'the connections said why they could not connect')
    const tries = server.connections()
    await new Promise((resolve) => setTimeout(resolve, 1500))
    assert.equal(server.connections(), tries, 'no connection tries again once closed')
  } finally {
    await server.close()
  }
})
