// A hostile pool writing only its own keys, under its own ACL user (SECURITY.md row 11),
// against the gateway's broker: nothing it writes speaks for another pool's runs. Its own
// events stream carries a `completed` and a `failed` event naming another pool's runs
// (waits.ts). The attacker, pool `work`, comes first in registry order.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { describe, test } from 'node:test'

import { Queue } from 'bullmq'

import { RedisBroker, poolAclRules, producerAclRules, redisRunSource } from '../../../../src/data/broker/redis/index.js'
import { poolKeys } from '../../../../src/data/broker/redis/keys.js'
import { encodeRunError, stampResult } from '../../../../src/data/broker/redis/record.js'
import type { Envelope } from '../../../../src/data/index.js'
import { redisPerFile } from '../../../helpers/redis-per-file.js'
import { CONTRACT, contractRegistry, envelope } from '../broker.contract.js'

const { skip, server } = redisPerFile()

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

type Raw = { call(...args: (string | number)[]): Promise<unknown>; quit(): Promise<unknown> }

/** ACL users for the gateway and for pools `work` (the attacker) and `burst` (the victim), under `prefix`; their URLs. */
async function users(prefix: string): Promise<{ gateway: string; work: string; burst: string }> {
  const { url, port } = server()
  const admin = new Queue('admin', { connection: { url } })
  admin.on('error', () => undefined)
  const urls = { gateway: '', work: '', burst: '' }
  try {
    const client = (await admin.client) as unknown as Raw
    for (const [name, rules] of [
      ['gateway', producerAclRules(prefix)],
      ['work', poolAclRules('work', prefix)],
      ['burst', poolAclRules('burst', prefix)],
    ] as const) {
      const user = `${prefix}-${name}`
      await client.call('ACL', 'SETUSER', user, 'on', `>${user}-pw`, ...rules)
      urls[name] = `redis://${user}:${user}-pw@127.0.0.1:${port}`
    }
  } finally {
    await admin.close()
  }
  return urls
}

/** A raw connection as a pool's user, to write what that pool's worker could write. */
async function rawAs(url: string, prefix: string, pool: string): Promise<{ client: Raw; close(): Promise<void> }> {
  const queue = new Queue(`switchyard.${pool}`, { connection: { url }, prefix })
  queue.on('error', () => undefined)
  return { client: (await queue.client) as unknown as Raw, close: () => queue.close() }
}

void describe("a pool's Redis data never speaks for another pool's runs", { skip }, () => {
  void test("a completed or failed event a pool adds to its own stream, naming another pool's runs, settles neither wait: each ends with its own worker's result", async () => {
    const prefix = `forge-${randomUUID().slice(0, 8)}`
    const url = await users(prefix)
    const registry = contractRegistry()
    const warnings: string[] = []
    const broker = await RedisBroker.connect({ registry, url: url.gateway, prefix, warn: (m) => warnings.push(m) })
    const attacker = await rawAs(url.work, prefix, 'work')
    const victim = redisRunSource('burst', { url: url.burst, prefix, warn: () => undefined })
    try {
      // A run of the attacker's pool: the gateway listens to its events from now on.
      await broker.submit(envelope(registry, CONTRACT.workflows.echo, { mode: 'echo', value: 'mine' }), { async: true })
      // The victim's runs, queued with no worker yet.
      const runs: Envelope[] = [1, 2].map((n) => envelope(registry, CONTRACT.workflows.burst, { mode: 'echo', value: n }))
      for (const run of runs) await broker.submit(run, { async: true })
      const waits = runs.map((run) => broker.wait(run.runId, { until: Date.now() + 20_000 }))
      // The pool's user cannot read the victim's keys, but it can write its own stream.
      await assert.rejects(attacker.client.call('GET', poolKeys(prefix, 'switchyard.burst').job(runs[0]!.runId)), /NOPERM/)
      const stamp = { startedAt: 1, finishedAt: 2, attempts: 1 }
      const events = `${prefix}:switchyard.work:events`
      const forged = JSON.stringify(stampResult({ forged: 'by pool work' }, stamp))
      await attacker.client.call(
        'XADD',
        events,
        '*',
        'event',
        'completed',
        'jobId',
        runs[0]!.runId,
        'returnvalue',
        forged,
        'prev',
        'active',
      )
      const lie = encodeRunError({ code: 'GRAPH_FAILED', message: 'forged by pool work: call 555-0100', retryable: false }, stamp)
      await attacker.client.call('XADD', events, '*', 'event', 'failed', 'jobId', runs[1]!.runId, 'failedReason', lie, 'prev', 'active')
      await attacker.client.call('XADD', events, '*', 'event', 'removed', 'jobId', runs[1]!.runId, 'prev', 'waiting')
      // Time for the gateway's listener to read them (an XREAD away) before the victim's worker runs anything.
      await sleep(500)
      victim.start(async (delivery) => ({ ok: true, output: { real: (delivery.raw as Envelope).input } }), { concurrency: 2 })
      const records = await Promise.all(waits)
      for (const [i, record] of records.entries()) {
        assert.equal(record.status, 'succeeded', `run ${i + 1}: ${JSON.stringify(record)}`)
        assert.equal(record.pool, CONTRACT.pools.burst)
        assert.deepEqual(record.output, { real: { mode: 'echo', value: i + 1 } })
      }
    } finally {
      await victim.close()
      await attacker.close()
      await broker.close()
    }
  })
})
