// A Redis host that vanishes without a word: power lost, a partition, a failover that
// moved its address. No RST comes, so TCP takes about 15 minutes to give up on a
// connection with a command in flight, and one waiting on a blocking read never notices.
// Before SOCKET_TIMEOUT_MS, the gateway's producer answered 503 and the pool's worker
// took no run for all that while, though a live Redis was at the same address.
//
// Here a proxy stands for the network: vanish() stops forwarding on every connection it
// holds, and closes none (the client's kernel gets no RST, nor any answer), while a
// connection opened after it reaches Redis as before (the address now leads to a live
// server: the failover's new primary).
import assert from 'node:assert/strict'
import { createServer, connect, type Socket } from 'node:net'
import { test } from 'node:test'

import { SwitchyardError } from '../../../../src/control/index.js'
import { SOCKET_TIMEOUT_MS } from '../../../../src/data/broker/redis/connection.js'
import { RedisBroker, redisRunSource } from '../../../../src/data/broker/redis/index.js'
import { redisSkip, startRedis } from '../../../helpers/redis.js'
import { CONTRACT, contractRegistry, envelope } from '../broker.contract.js'

const skip = redisSkip()

/** A TCP proxy to `port` whose held connections can be made to go silent at once. */
async function silencingProxy(port: number): Promise<{ url: string; vanish: () => number; close: () => Promise<void> }> {
  const pairs = new Set<[Socket, Socket]>()
  const server = createServer((client) => {
    const upstream = connect(port, '127.0.0.1')
    const pair: [Socket, Socket] = [client, upstream]
    pairs.add(pair)
    client.on('error', () => undefined)
    upstream.on('error', () => undefined)
    client.pipe(upstream)
    upstream.pipe(client)
    const end = () => {
      pairs.delete(pair)
      client.destroy()
      upstream.destroy()
    }
    client.on('close', end)
    upstream.on('close', end)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const silenced: Socket[] = []
  return {
    url: `redis://127.0.0.1:${(server.address() as { port: number }).port}`,
    vanish: () => {
      for (const [client, upstream] of pairs) {
        // Nothing more either way, and nothing closed: what reaches the client's kernel from a host that is gone.
        client.unpipe(upstream)
        upstream.unpipe(client)
        client.removeAllListeners('close')
        upstream.removeAllListeners('close')
        client.pause()
        upstream.pause()
        silenced.push(client, upstream)
      }
      const count = pairs.size
      pairs.clear()
      return count
    },
    close: async () => {
      for (const socket of silenced) socket.destroy()
      for (const socket of [...pairs].flat()) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

void test(
  'Redis at the same address after its old host vanished: the gateway and the pool serve again within the socket timeout',
  { skip, timeout: 120_000 },
  async (t) => {
    const redis = await startRedis()
    const proxy = await silencingProxy(redis.port)
    const registry = contractRegistry()
    const broker = await RedisBroker.connect({
      registry,
      url: proxy.url,
      prefix: 'vanish',
      pollMs: 250,
      commandTimeoutMs: 2000,
      warn: () => undefined,
    })
    const source = redisRunSource(CONTRACT.pools.work, { url: proxy.url, prefix: 'vanish', heartbeat: false, warn: () => undefined })
    source.start(async (delivery) => ({ ok: true, output: { ran: delivery.runId } }), { concurrency: 2 })
    try {
      const before = envelope(registry, CONTRACT.workflows.echo, { mode: 'echo', value: 1 })
      await broker.submit(before, { async: true })
      assert.equal((await broker.wait(before.runId, { until: Date.now() + 15_000 })).status, 'succeeded')

      const silenced = proxy.vanish()
      const vanishedAt = Date.now()
      t.diagnostic(`${silenced} connections silenced`)
      // As a client does: send again while the gateway says Redis is unavailable. The
      // connections fall silent one after the other (the producer's, the worker's, its
      // blocking take's, the queue its processor reads): each is found dead SOCKET_TIMEOUT_MS
      // after its first command since, so a run waits for up to three in a row.
      const within = 3 * SOCKET_TIMEOUT_MS + 10_000
      let served: number | null = null
      let lastRefusal = ''
      while (served === null && Date.now() < vanishedAt + within) {
        const after = envelope(registry, CONTRACT.workflows.echo, { mode: 'echo', value: 2 })
        try {
          await broker.submit(after, { async: true })
          const record = await broker.wait(after.runId, { until: Math.min(Date.now() + 5000, vanishedAt + within) })
          if (record.status === 'succeeded') served = Date.now() - vanishedAt
          else lastRefusal = `run ${record.status}`
        } catch (error) {
          if (!(error instanceof SwitchyardError) || error.code !== 'BROKER_UNAVAILABLE') throw error
          lastRefusal = error.message
          await new Promise((resolve) => setTimeout(resolve, 250))
        }
      }
      assert.ok(served !== null, `no run was served within ${within} ms of the host vanishing: ${lastRefusal}`)
      t.diagnostic(`a run sent and run ${served} ms after the host vanished`)
    } finally {
      await source.close()
      await broker.close()
      await proxy.close()
      await redis.stop()
    }
  },
)
