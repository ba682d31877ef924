// Issue 12.11 × 13.6: cancel works when every process runs as the Redis ACL user
// `switchyard acl` prints for it. A real `switchyard start` on a real redis-server whose
// users are exactly those lines: the gateway as switchyard-gateway, each pool's worker as
// switchyard-pool-<pool>. A queued run is cancelled and never runs; a running graph sees
// its abort signal (CANCELLED) and the run ends cancelled. The per-pool users need to
// SUBSCRIBE to their own pool's cancel channel and the gateway to PUBLISH on it; without
// those grants the worker never hears a cancel. And nobody is told about the eviction
// check more than once.
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'

import { eventually } from '../data/supervisor/supervisor-helpers.js'
import { aclUsers } from '../helpers/pool-acl.js'
import { launch, type Launched } from '../helpers/start.js'
import { redisSkip, startRedis } from '../helpers/redis.js'

const REGISTRY = `version: 1
pools:
  work:
    env: env/work.env
    concurrency: 1
    processes: 1
    timeout: 2m
  other:
    env: env/other.env
workflows:
  work.watch:
    pool: work
    graph: watch.mjs#graph
    input: { type: object }
    description: Waits for its abort signal and writes down what it saw.
  other.watch:
    pool: other
    graph: watch.mjs#graph
    input: { type: object }
    description: The same in another pool.
`

const GRAPH = `import { writeFileSync } from 'node:fs'
export function graph() {
  return (input, run) =>
    new Promise((resolve) => {
      writeFileSync(input.file + '.started', '')
      run.signal.addEventListener('abort', () => {
        const reason = run.signal.reason
        writeFileSync(input.file, JSON.stringify({ code: reason?.code, message: reason?.message }))
        resolve(null)
      })
    })
}
`

void test(
  'with the users `switchyard acl` prints, cancel reaches queued and running runs through the gateway',
  { skip: redisSkip() },
  async () => {
    const redis = await startRedis()
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-acl-cancel-'))
    writeFileSync(join(dir, 'watch.mjs'), GRAPH)
    writeFileSync(join(dir, 'switchyard.yaml'), REGISTRY)
    mkdirSync(join(dir, 'env'))
    for (const pool of ['work', 'other']) writeFileSync(join(dir, 'env', `${pool}.env`), '')
    let url: (user: string) => string
    try {
      url = await aclUsers(join(dir, 'switchyard.yaml'), redis.url, redis.port)
    } catch (error) {
      await redis.stop()
      throw error
    }
    for (const pool of ['work', 'other'])
      writeFileSync(join(dir, 'env', `${pool}.env`), `SWITCHYARD_REDIS_URL=${url(`switchyard-pool-${pool}`)}\n`)

    let started: Launched
    try {
      started = await launch('start', {
        args: ['--config', join(dir, 'switchyard.yaml'), '--no-auth'],
        env: { SWITCHYARD_REDIS_URL: url('switchyard-gateway') },
      })
    } catch (error) {
      await redis.stop()
      rmSync(dir, { recursive: true, force: true })
      throw error
    }
    const { url: gateway, output } = started
    const explain = (error: Error) => {
      throw new Error(`${error.message}\n${output()}`)
    }
    try {
      await eventually(
        'every pool ready',
        async () => ((await fetch(`${gateway}/readyz`)).status === 200 ? true : undefined),
        90_000,
      ).catch(explain)
      const submit = async (workflow: string, input: object) => {
        const response = await fetch(`${gateway}/v1/workflows/${workflow}/run`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', prefer: 'respond-async' },
          body: JSON.stringify(input),
        })
        await response.body?.cancel()
        assert.equal(response.status, 202, output())
        return response.headers.get('x-switchyard-run-id') ?? ''
      }
      const cancel = async (runId: string) => {
        const response = await fetch(`${gateway}/v1/runs/${runId}/cancel`, { method: 'POST' })
        return { status: response.status, body: (await response.json()) as { status: string; code?: string; error?: { message: string } } }
      }
      const status = async (runId: string) => ((await (await fetch(`${gateway}/v1/runs/${runId}`)).json()) as { status: string }).status

      // Pool work runs one run at a time: the first runs (its graph waits), the second is queued.
      const runningFile = join(dir, 'running.json')
      const queuedFile = join(dir, 'queued.json')
      const running = await submit('work.watch', { file: runningFile })
      await eventually('the graph to start', () => existsSync(`${runningFile}.started`), 30_000).catch(explain)
      const queued = await submit('work.watch', { file: queuedFile })
      assert.equal(await status(queued), 'queued')

      const queuedCancel = await cancel(queued)
      assert.equal(queuedCancel.status, 200, JSON.stringify(queuedCancel.body))
      assert.equal(queuedCancel.body.status, 'cancelled')
      assert.match(queuedCancel.body.error?.message ?? '', /cancelled while queued/)

      const runningCancel = await cancel(running)
      assert.ok([200, 202].includes(runningCancel.status), `${runningCancel.status} ${JSON.stringify(runningCancel.body)}\n${output()}`)
      await eventually('the graph to see its abort signal', () => existsSync(runningFile), 20_000).catch(explain)
      const seen = JSON.parse(readFileSync(runningFile, 'utf8')) as { code: string; message: string }
      assert.equal(seen.code, 'CANCELLED')
      assert.match(seen.message, new RegExp(`^run ${running} was cancelled while running`))
      await eventually('the run to end cancelled', async () => ((await status(running)) === 'cancelled' ? true : undefined), 20_000)
      // The cancelled queued run never started, even now that the worker is free.
      await new Promise((resolve) => setTimeout(resolve, 300))
      assert.equal(existsSync(`${queuedFile}.started`), false)

      assert.doesNotMatch(output(), /cannot listen for cancels|NOPERM/, output())
      // The eviction check: at most one line for the whole deployment (the gateway's), none from workers.
      assert.ok(
        output()
          .split('\n')
          .filter((line) => line.includes('maxmemory-policy')).length <= 1,
        output(),
      )
    } finally {
      await started.stop()
      await redis.stop()
      rmSync(dir, { recursive: true, force: true })
    }
  },
)
