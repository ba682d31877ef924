// At-least-once on Redis, the backstop: a worker process that writes no heartbeat or
// leases (a worker of another version, say) killed with SIGKILL in the middle of a run
// loses nothing either. Its lock expires, another worker's stalled-job check puts the
// run back, and the run completes there. (With heartbeats, the broker contract's
// kill -9 test: the run is back within seconds, whatever the lock.)
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

import { RedisBroker, redisRunSource } from '../../../../src/data/broker/redis/index.js'
import { redisPerFile } from '../../../helpers/redis-per-file.js'
import { workEnvelope } from '../../../helpers/redis-work-pool.js'
import { contractRegistry } from '../broker.contract.js'

const { skip, server } = redisPerFile()

const SLEEPY = fileURLToPath(new URL('./fixtures/sleepy-worker.ts', import.meta.url))

void test('kill -9 a worker mid-run: the run completes on another worker, none lost', { skip }, async () => {
  const { url } = server()
  const prefix = `alo-${randomUUID().slice(0, 8)}`
  const broker = await RedisBroker.connect({ registry: contractRegistry(), url, prefix, pollMs: 250 })
  const child = spawn(process.execPath, ['--import', 'tsx', SLEEPY, url, prefix, 'work'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const survivor = redisRunSource('work', { url, prefix, lockDurationMs: 1000, stalledIntervalMs: 500, heartbeat: false })
  try {
    // One attempt only: a retry must not be what saves the run, the stalled-job recovery must.
    const env = workEnvelope('alo', null, { job: 'survive a kill -9' }, 60_000)
    await broker.submit(env, { async: true })

    let stdout = ''
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the sleepy worker never started the run: ${stdout}`)), 30_000)
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString()
        if (stdout.includes(`started ${env.runId}`)) {
          clearTimeout(timer)
          resolve()
        }
      })
      child.once('exit', (code) => reject(new Error(`the sleepy worker exited (${code}) before starting: ${stdout}`)))
    })
    assert.equal((await broker.get(env.runId))?.status, 'running')

    child.kill('SIGKILL')
    await once(child, 'exit')

    const attempts: number[] = []
    survivor.start(
      async (delivery) => {
        attempts.push(delivery.attempt)
        return { ok: true, output: { by: 'survivor' } }
      },
      { concurrency: 1 },
    )
    const record = await broker.wait(env.runId, { until: Date.now() + 30_000 })
    assert.equal(record.status, 'succeeded')
    assert.deepEqual(record.output, { by: 'survivor' })
    // The killed attempt counts as started; the stalled run is not charged a failed attempt.
    assert.equal(record.attempts, 2)
    assert.deepEqual(attempts, [1])
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL')
      await once(child, 'exit')
    }
    await survivor.close()
    await broker.close()
  }
})
