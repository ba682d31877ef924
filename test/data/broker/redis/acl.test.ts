// Redis ACL isolation: each pool's user reaches only its own queue's keys; the
// gateway/producer user writes every queue. Real redis-server, real ACL users.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { test } from 'node:test'

import { Job, Queue } from 'bullmq'

import type { RoutePlan } from '../../../../src/control/index.js'
import { createEnvelope } from '../../../../src/data/index.js'
import { poolAclRules, producerAclRules, RedisBroker, redisRunSource } from '../../../../src/data/broker/redis/index.js'
import { eventually } from '../../../helpers/eventually.js'
import { redisPerFile } from '../../../helpers/redis-per-file.js'
import { contractRegistry } from '../broker.contract.js'

const { skip, server } = redisPerFile()

type RawClient = { call(...args: string[]): Promise<unknown> }

/** A BullMQ queue opened with some user's credentials, and its raw client (ioredis underneath). */
async function openAs(url: string, queue: string): Promise<{ queue: Queue; client: RawClient }> {
  const q = new Queue(queue, { connection: { url } })
  q.on('error', () => undefined)
  return { queue: q, client: (await q.client) as unknown as RawClient }
}

function plan(workflow: string, pool: string): RoutePlan {
  return {
    workflow,
    pool,
    queue: `switchyard.${pool}`,
    runtime: 'node',
    graph: 'contract/graph.ts#graph',
    prompt: null,
    input: { secret: `only for ${pool}` },
    timeoutMs: 60_000,
    deadline: new Date(Date.now() + 60_000).toISOString(),
    retry: { maxAttempts: 1, backoff: { type: 'exponential', delayMs: 10 } },
    tracing: { project: 'p', sampleRate: 1, capture: 'full', redact: [] },
    registry: `sha256:${'c'.repeat(64)}`,
  }
}

const NOPERM = /\bNOPERM /

void test("a pool's Redis user reaches only its own queue's keys; the producer reaches all", { skip }, async () => {
  const redis = server()
  const admin = await openAs(redis.url, 'admin')
  const base = `127.0.0.1:${redis.port}`
  await admin.client.call('ACL', 'SETUSER', 'gateway', 'on', '>gw-pass', ...producerAclRules())
  await admin.client.call('ACL', 'SETUSER', 'pool-work', 'on', '>work-pass', ...poolAclRules('work'))
  await admin.client.call('ACL', 'SETUSER', 'pool-tight', 'on', '>tight-pass', ...poolAclRules('tight'))
  await admin.client.call('ACL', 'SETUSER', 'pool-burst', 'on', '>burst-pass', ...poolAclRules('burst'))
  const urls = {
    gateway: `redis://gateway:gw-pass@${base}`,
    work: `redis://pool-work:work-pass@${base}`,
    tight: `redis://pool-tight:tight-pass@${base}`,
    burst: `redis://pool-burst:burst-pass@${base}`,
  }

  const warnings: string[] = []
  const broker = await RedisBroker.connect({ registry: contractRegistry(), url: urls.gateway, warn: (m) => warnings.push(m) })
  // A pool's worker says nothing about its user's missing CONFIG (the gateway said it once) and hears cancels.
  const sourceWarnings: string[] = []
  const workSource = redisRunSource('work', { url: urls.work, warn: (m) => sourceWarnings.push(m) })
  const tightSource = redisRunSource('tight', { url: urls.tight, warn: (m) => sourceWarnings.push(m) })
  const work = await openAs(urls.work, 'switchyard.tight')
  try {
    // The gateway user may not run CONFIG: the broker says it could not check, and goes on.
    assert.equal(warnings.length, 1)
    assert.match(
      warnings[0] ?? '',
      /^Switchyard cannot check the eviction policy of redis:\/\/gateway:\*\*\*@127\.0\.0\.1:\d+\/?: its ACL user may not run CONFIG GET/,
    )

    const trace = { traceparent: '', tracestate: '', baggage: '' }
    const toWork = createEnvelope(plan('contract.echo', 'work'), { runId: `w-${randomUUID()}`, trace, idempotencyKey: 'k-work' }, null)
    const toTight = createEnvelope(plan('contract.tight', 'tight'), { runId: `t-${randomUUID()}`, trace, idempotencyKey: 'k-tight' }, null)
    // Queued before any worker is up (async); each worker's heartbeat, lease and cancel listening run as its pool's user.
    await broker.submit(toWork, { async: true })
    await broker.submit(toTight, { async: true })

    // Each pool's worker runs its own pool's run with its own user.
    const handler = (pool: string) => async () => ({ ok: true as const, output: { ranBy: pool } })
    workSource.start(handler('work'), { concurrency: 1 })
    tightSource.start(handler('tight'), { concurrency: 1 })
    const until = Date.now() + 20_000
    assert.deepEqual((await broker.wait(toWork.runId, { until })).output, { ranBy: 'work' })
    assert.deepEqual((await broker.wait(toTight.runId, { until })).output, { ranBy: 'tight' })
    // /readyz with per-pool users: every pool's worker counts (their heartbeats are in their own keys, which the gateway's user reads).
    assert.equal(await broker.ready(), false, 'pool burst has no worker')
    const burstSource = redisRunSource('burst', { url: urls.burst, warn: () => undefined })
    burstSource.start(handler('burst'), { concurrency: 1 })
    try {
      await eventually('every pool ready', () => broker.ready(), 20_000)
    } finally {
      await burstSource.close()
    }

    assert.deepEqual(sourceWarnings, [])
    // Pool work's user cannot read or write pool tight's queue, run or idempotency key.
    await assert.rejects(work.queue.add('contract.tight', { forged: true }), NOPERM)
    await assert.rejects(work.queue.getJobCounts(), NOPERM)
    await assert.rejects(Job.fromId(work.queue, toTight.runId), NOPERM)
    await assert.rejects(work.client.call('HGETALL', `bull:switchyard.tight:${toTight.runId}`), NOPERM)
    await assert.rejects(work.client.call('DEL', 'bull:switchyard.tight:sy-key:anonymous:contract.tight:k-tight'), NOPERM)
    await assert.rejects(work.client.call('EVAL', "return redis.call('GET', KEYS[1])", '1', 'bull:switchyard.tight:id'), NOPERM)
    // Nor list other pools' keys, nor touch the server.
    await assert.rejects(work.client.call('SCAN', '0'), NOPERM)
    await assert.rejects(work.client.call('KEYS', '*'), NOPERM)
    await assert.rejects(work.client.call('FLUSHALL'), NOPERM)
    await assert.rejects(work.client.call('CONFIG', 'GET', 'maxmemory-policy'), NOPERM)
    // Nor wipe or replace the server's functions, nor watch or stop other clients (issue 12.11).
    await assert.rejects(work.client.call('FUNCTION', 'FLUSH'), NOPERM)
    await assert.rejects(work.client.call('FUNCTION', 'DELETE', 'anything'), NOPERM)
    await assert.rejects(
      work.client.call('FUNCTION', 'LOAD', "#!lua name=evil\nredis.register_function('evil', function() return 1 end)"),
      NOPERM,
    )
    await assert.rejects(work.client.call('CLIENT', 'TRACKING', 'on', 'BCAST'), NOPERM)
    await assert.rejects(work.client.call('CLIENT', 'LIST'), NOPERM)
    await assert.rejects(work.client.call('CLIENT', 'KILL', 'TYPE', 'normal'), NOPERM)
    await assert.rejects(work.client.call('CLIENT', 'PAUSE', '1000'), NOPERM)
    await assert.rejects(work.client.call('SCRIPT', 'FLUSH'), NOPERM)
    // Its own keys are fine.
    assert.equal(await work.client.call('HGET', `bull:switchyard.work:${toWork.runId}`, 'name'), 'contract.echo')
    // The forged job never landed on pool tight's queue.
    assert.deepEqual(
      (await broker.stats()).map((s) => [s.pool, s.queued]),
      [
        ['work', 0],
        ['tight', 0],
        ['burst', 0],
      ],
    )
  } finally {
    await Promise.all([workSource.close(), tightSource.close()])
    await Promise.all([broker.close(), work.queue.close(), admin.queue.close()])
  }
})
