// After a Redis outage the platform serves again within a second or two of Redis coming
// back, however long the outage lasted. BullMQ's own reconnect backoff (e^attempt ms, at
// least 1 s, at most 20 s) left the gateway's producer answering 503 and the pool's worker
// taking no run for 3 s after an outage of 15 s and 13 s after one of 25 s; after one of
// 20 s, its connections next tried 38 s after the kill. connectionFor() gives every
// connection reconnectDelay() instead: 50 ms doubling to 1 s.
import assert from 'node:assert/strict'
import { rmSync } from 'node:fs'
import { test } from 'node:test'

import { SwitchyardError } from '../../../../src/control/index.js'
import { RECONNECT_MAX_MS, reconnectDelay } from '../../../../src/data/broker/redis/connection.js'
import { RedisBroker, redisRunSource } from '../../../../src/data/broker/redis/index.js'
import { freePort, redisSkip, startRedis, type RedisServer } from '../../../helpers/redis.js'
import { CONTRACT, contractRegistry, envelope } from '../broker.contract.js'

const skip = redisSkip()
/** Redis with its data on disk at every write, so a restart finds the queue as it was. */
const AOF = ['--appendonly', 'yes', '--appendfsync', 'always']
/** Longer than BullMQ's backoff reaches in its first nine tries (18.2 s): its tenth comes 20 s later. */
const OUTAGE_MS = 20_000
/** A run sent as Redis comes back must have ended within this. */
const BACK_WITHIN_MS = 8_000

void test('a reconnect waits 50 ms doubling to a second, less up to half at random, never more', () => {
  const delays = Array.from({ length: 2000 }, (_, i) => ({ attempt: (i % 40) + 1, ms: reconnectDelay((i % 40) + 1) }))
  for (const { attempt, ms } of delays) {
    const ceiling = Math.min(RECONNECT_MAX_MS, 50 * 2 ** (attempt - 1))
    assert.ok(ms <= ceiling && ms >= ceiling / 2, `attempt ${attempt}: ${ms} ms, outside ${ceiling / 2}..${ceiling}`)
  }
  // Spread, not in step: the connections of many processes do not all come back together.
  assert.ok(new Set(delays.filter((d) => d.attempt > 10).map((d) => d.ms)).size > 100)
})

void test(
  'after a 20 s outage a run sent as Redis comes back is run within seconds, and one in flight through it is kept',
  { skip, timeout: 120_000 },
  async (t) => {
    let redis: RedisServer = await startRedis(AOF)
    const place = { dir: redis.dir, port: redis.port }
    const registry = contractRegistry()
    const warnings: string[] = []
    const warn = (message: string) => warnings.push(message)
    const broker = await RedisBroker.connect({ registry, url: redis.url, prefix: 'reconnect', pollMs: 250, warn })
    const ran: string[] = []
    let endTheRunInFlight = (): void => undefined
    const inFlightMayEnd = new Promise<void>((resolve) => (endTheRunInFlight = resolve))
    const source = redisRunSource(CONTRACT.pools.work, { url: redis.url, prefix: 'reconnect', warn })
    source.start(
      async (delivery) => {
        ran.push(delivery.runId ?? '')
        // The run in flight as Redis dies ends during the outage: its result waits for Redis.
        if ((delivery.raw as { input?: { value?: unknown } }).input?.value === 'through the outage') await inFlightMayEnd
        return { ok: true, output: { ran: delivery.runId } }
      },
      { concurrency: 2 },
    )
    try {
      await source.visible?.()
      const before = envelope(registry, CONTRACT.workflows.echo, { mode: 'echo', value: 1 })
      await broker.submit(before, { async: true })
      assert.equal((await broker.wait(before.runId, { until: Date.now() + 15_000 })).status, 'succeeded')
      const through = envelope(registry, CONTRACT.workflows.echo, { mode: 'echo', value: 'through the outage' }, null, 120_000)
      await broker.submit(through, { async: true })
      while (!ran.includes(through.runId)) await new Promise((resolve) => setTimeout(resolve, 20))

      await redis.kill()
      setTimeout(endTheRunInFlight, 1000)
      await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS))
      redis = await startRedis(AOF, place)
      const backAt = Date.now()

      // As a client does: send again while the gateway's broker says Redis is unavailable.
      let accepted: string | null = null
      let lastRefusal = ''
      while (accepted === null && Date.now() < backAt + BACK_WITHIN_MS) {
        const after = envelope(registry, CONTRACT.workflows.echo, { mode: 'echo', value: 1 })
        try {
          await broker.submit(after, { async: true })
          accepted = after.runId
        } catch (error) {
          if (!(error instanceof SwitchyardError) || error.code !== 'BROKER_UNAVAILABLE') throw error
          lastRefusal = error.message
          await new Promise((resolve) => setTimeout(resolve, 100))
        }
      }
      assert.ok(accepted, `no submit was accepted within ${BACK_WITHIN_MS} ms of Redis coming back: ${lastRefusal}`)
      const record = await broker.wait(accepted, { until: backAt + BACK_WITHIN_MS })
      assert.equal(record.status, 'succeeded', `the run sent after the outage ended ${record.status}: ${JSON.stringify(record.error)}`)
      assert.ok(ran.includes(accepted))
      t.diagnostic(`accepted and run ${(record.finishedAt ?? Number.NaN) - backAt} ms after Redis came back`)

      // The run whose graph ended during the outage: its result recorded once Redis was back,
      // not failed by its command giving up while Redis was away (ioredis's 20 tries).
      const kept = await broker.wait(through.runId, { until: Date.now() + 10_000 })
      assert.equal(kept.status, 'succeeded', `the run in flight through the outage ended ${kept.status}: ${JSON.stringify(kept.error)}`)
      assert.equal(kept.attempts, 1)
      assert.deepEqual(
        ran.filter((id) => id === through.runId),
        [through.runId],
      )

      // Each connection said it could not reach Redis once, not at every try to reconnect.
      const refused = warnings.filter((message) => /ECONNREFUSED|ECONNRESET|Connection is closed/.test(message))
      t.diagnostic(`${refused.length} warnings of a lost connection in the outage`)
      assert.ok(refused.length <= 12, `${refused.length} warnings of a lost connection in one outage:\n${refused.join('\n')}`)
    } finally {
      await source.close()
      await broker.close()
      await redis.stop()
      rmSync(place.dir, { recursive: true, force: true })
    }
  },
)

void test('a worker started while Redis is down says so once, and says its next outage too', { skip, timeout: 60_000 }, async () => {
  const port = await freePort()
  const warnings: string[] = []
  const source = redisRunSource(CONTRACT.pools.work, {
    url: `redis://127.0.0.1:${port}`,
    prefix: 'late',
    heartbeat: false,
    closeTimeoutMs: 2000,
    warn: (message) => warnings.push(message),
  })
  source.start(async () => ({ ok: true, output: null }), { concurrency: 1 })
  let redis: RedisServer | null = null
  try {
    await new Promise((resolve) => setTimeout(resolve, 2000))
    const atStart = warnings.filter((message) => message.includes('ECONNREFUSED'))
    assert.ok(atStart.length >= 1 && atStart.length <= 3, `while Redis was down at start: ${atStart.join('\n')}`)

    redis = await startRedis([], { port })
    await new Promise((resolve) => setTimeout(resolve, 2000))
    const before = warnings.length
    await redis.kill()
    await new Promise((resolve) => setTimeout(resolve, 3000))
    const next = warnings.slice(before).filter((message) => message.includes('ECONNREFUSED') || message.includes('ECONNRESET'))
    assert.ok(next.length >= 1 && next.length <= 3, `the next outage: ${next.length} warnings\n${next.join('\n')}`)
  } finally {
    await source.close()
    if (redis) rmSync(redis.dir, { recursive: true, force: true })
  }
})
