// Heartbeats on real Redis: a worker process counts as alive once its first beat is in,
// stops counting the moment it leaves cleanly, and within HEARTBEAT.ttlMs of a kill -9.
// The Python worker beats by the same numbers and the same script (held here).
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'

import { RedisBroker } from '../../../../src/data/broker/redis/index.js'
import { HEARTBEAT, startHeartbeat } from '../../../../src/data/broker/redis/heartbeat.js'
import { poolKeys } from '../../../../src/data/broker/redis/keys.js'
import { BEAT_LUA } from '../../../../src/data/broker/redis/scripts.js'
import { poolLive } from '../../../helpers/pool-live.js'
import { redisPerFile } from '../../../helpers/redis-per-file.js'
import { contractRegistry } from '../broker.contract.js'
import { spawnRedisConsumer } from '../fixtures/child-consumer.js'

const { skip, server } = redisPerFile()

const workersOf = async (broker: RedisBroker, pool: string) => (await broker.stats()).find((s) => s.pool === pool)?.workers

void test('the Python worker beats with the same script, interval and lifetime', () => {
  const python = readFileSync(new URL('../../../../python/switchyard_worker/heartbeat.py', import.meta.url), 'utf8')
  assert.match(python, new RegExp(`^BEAT_MS = ${HEARTBEAT.beatMs}$`, 'm'))
  assert.match(python, new RegExp(`^TTL_MS = ${HEARTBEAT.ttlMs}$`, 'm'))
  const lua = /^BEAT_LUA = """([\s\S]*?)"""$/m.exec(python)?.[1]
  assert.equal(lua, BEAT_LUA)
  assert.match(python, /f"\{prefix\}:switchyard\.\{pool\}:sy-workers"/)
})

void test('a heartbeat makes its pool live at once; leaving cleanly ends it at once; a kill -9 within the lifetime', { skip }, async () => {
  const { url } = server()
  const prefix = `hb-${randomUUID().slice(0, 8)}`
  const broker = await RedisBroker.connect({ registry: contractRegistry(), url, prefix })
  try {
    assert.equal(await workersOf(broker, 'work'), 0)
    const heartbeat = startHeartbeat({ url, workersKey: poolKeys(prefix, 'switchyard.work').workers })
    await heartbeat.beating
    assert.equal(await workersOf(broker, 'work'), 1)
    assert.equal(await workersOf(broker, 'tight'), 0)
    await heartbeat.stop()
    assert.equal(await workersOf(broker, 'work'), 0)

    const child = await spawnRedisConsumer(url, prefix, 'work')
    await poolLive(broker, 'work')
    const killed = Date.now()
    await child.kill()
    while ((await workersOf(broker, 'work')) !== 0) await new Promise((resolve) => setTimeout(resolve, 50))
    assert.ok(Date.now() - killed <= HEARTBEAT.ttlMs + 250, `still counted ${Date.now() - killed} ms after the kill`)
  } finally {
    await broker.close()
  }
})
