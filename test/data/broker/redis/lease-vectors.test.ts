// spec/vectors/leases.json: where a worker process says which runs it holds (its heartbeat's
// member and its lease hash), which the node worker writes, the Python worker writes
// (python/tests/test_leases.py) and the reaper and supervisor read (reaper.ts), and the pool's
// hash of takes not run (`unrun`, crashes.ts), which both workers count into, and its deadline
// set (`deadlines`, expiry.ts), which both workers drop a taken run from. On a real
// redis-server: the node worker's lease of a running run is the vector's field and value,
// the token being the job's BullMQ lock, and it is gone when the run ends and the process leaves.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { test } from 'node:test'

import { Queue } from 'bullmq'

import { queueName } from '../../../../src/control/index.js'
import { commands } from '../../../../src/data/broker/redis/commands.js'
import { connectionFor } from '../../../../src/data/broker/redis/connection.js'
import { poolKeys } from '../../../../src/data/broker/redis/keys.js'
import { newWorkerId } from '../../../../src/data/broker/redis/heartbeat.js'
import { redisRunSource } from '../../../../src/data/broker/redis/index.js'
import { eventually } from '../../../helpers/eventually.js'
import { redisPerFile } from '../../../helpers/redis-per-file.js'

interface LeaseCase {
  readonly description: string
  readonly prefix: string
  readonly pool: string
  readonly workerId: string
  readonly runId: string
  readonly token: string
  readonly workers: string
  readonly unrun: string
  readonly deadlines: string
  readonly leases: string
  readonly field: string
  readonly value: string
}

const vectors = JSON.parse(readFileSync(new URL('../../../../spec/vectors/leases.json', import.meta.url), 'utf8')) as {
  cases: LeaseCase[]
}

const { skip, server } = redisPerFile()

void test('the lease vectors hold for the node worker and the reaper', () => {
  assert.ok(vectors.cases.length >= 2)
  for (const v of vectors.cases) {
    const keys = poolKeys(v.prefix, queueName(v.pool))
    assert.equal(keys.workers, v.workers, v.description)
    assert.equal(keys.unrun, v.unrun, v.description)
    assert.equal(keys.deadlines, v.deadlines, v.description)
    assert.equal(keys.leases(v.workerId), v.leases, v.description)
    assert.equal(v.field, v.runId, v.description)
    assert.equal(v.value, v.token, v.description)
    assert.match(v.workerId, /^[^:]+:\d+:[0-9a-f]{8}$/, v.description)
  }
  // The supervisor finds its dead child's member by `<host>:<pid>:` (RedisBroker.workerExited).
  assert.match(newWorkerId(), new RegExp(`^${hostname().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:${process.pid}:[0-9a-f]{8}$`))
})

void test(
  'a running node run is leased as the vectors say, with its job lock as the token; gone once it ends and the worker leaves',
  { skip },
  async () => {
    const { url } = server()
    const prefix = `lease-${randomUUID().slice(0, 8)}`
    const keys = poolKeys(prefix, queueName('work'))
    const queue = new Queue(queueName('work'), { connection: connectionFor(url), prefix })
    const client = await queue.client
    const redis = commands(client)
    const source = redisRunSource('work', { url, prefix })
    let release = () => undefined as void
    const held = new Promise<void>((resolve) => (release = resolve))
    try {
      source.start(
        async () => {
          await held
          return { ok: true, output: {} }
        },
        { concurrency: 1 },
      )
      const runId = `lease-${randomUUID()}`
      await queue.add('w', { deadline: new Date(Date.now() + 60_000).toISOString() }, { jobId: runId })
      const [worker] = await eventually('the worker to beat', async () => {
        const members = await redis.zrange(keys.workers, 0, -1)
        return members.length === 1 ? members : undefined
      })
      assert.ok(worker)
      const lease = await eventually('the lease', async () => {
        const fields = await client.hgetall(keys.leases(worker))
        return Object.keys(fields).length > 0 ? fields : undefined
      })
      assert.deepEqual(lease, { [runId]: await client.get(`${keys.job(runId)}:lock`) })
      assert.match(lease[runId] ?? '', /^[0-9a-f-]{36}:\d+$/)
      release()
      await eventually('the lease to go when the run ends', async () =>
        (await redis.exists(keys.leases(worker))) === 0 ? true : undefined,
      )
      await source.drain()
      assert.equal(await redis.exists(keys.leases(worker)), 0)
      assert.deepEqual(await redis.zmscore(keys.workers, worker), [null])
    } finally {
      release()
      await source.close()
      await queue.close()
    }
  },
)
