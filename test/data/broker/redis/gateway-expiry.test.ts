// Issue 13 ("every accepted run ends, as the caller asked") end to end on Redis: `switchyard
// gateway` under the ACL user `switchyard acl` gives it, a run accepted with
// `Prefer: respond-async` into a pool whose worker is not running, with a 1 s deadline.
// GET /v1/runs/{id} shows it failed DEADLINE_EXCEEDED at its deadline (it showed `queued`
// until some worker took it), /metrics counts it, and the pool's worker, started afterwards
// under its own ACL user (which may drop the deadline entries of its pool), never runs it.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'

import { generateSigningKey, signingKeyPem } from '../../../../src/data/index.js'
import { EXPIRED_MESSAGE } from '../../../../src/data/broker/run-errors.js'
import { eventually } from '../../../helpers/eventually.js'
import { aclUsers } from '../../../helpers/pool-acl.js'
import { sampleValue } from '../../../helpers/prometheus.js'
import { redisSkip, startRedis, type RedisServer } from '../../../helpers/redis.js'
import { launch, type Launched } from '../../../helpers/start.js'

const skip = redisSkip()
const WORKER_CLI = fileURLToPath(new URL('../../../../src/cli/worker.ts', import.meta.url))

const REGISTRY = `version: 1
pools:
  slow:
    concurrency: 1
    timeout: 1s
workflows:
  slow.note: { pool: slow, graph: graphs.mjs#note, input: { type: object }, description: Writes a ledger line per start. }
`

const GRAPHS = `import { appendFileSync } from 'node:fs'

export function note() {
  return async (input, run) => {
    appendFileSync(input.ledger, run.runId + '\\n')
    return { noted: true }
  }
}
`

interface RunBody {
  readonly status: string
  readonly deadline?: string
  readonly finishedAt?: string
  readonly error?: { readonly code: string; readonly message: string; readonly retryable: boolean }
}

void describe('gateway on Redis: a queued run ends at its deadline', { skip }, () => {
  let redis: RedisServer
  let gateway: Launched
  let dir: string
  let user: (name: string) => string
  const key = generateSigningKey()

  before(async () => {
    redis = await startRedis()
    dir = mkdtempSync(join(tmpdir(), 'switchyard-gateway-expiry-'))
    writeFileSync(join(dir, 'switchyard.yaml'), REGISTRY)
    writeFileSync(join(dir, 'graphs.mjs'), GRAPHS)
    writeFileSync(join(dir, 'signing.pem'), signingKeyPem(key), { mode: 0o600 })
    user = await aclUsers(join(dir, 'switchyard.yaml'), redis.url, redis.port)
    gateway = await launch('gateway', {
      args: [
        '--config',
        join(dir, 'switchyard.yaml'),
        '--redis',
        user('switchyard-gateway'),
        '--signing-key',
        join(dir, 'signing.pem'),
        '--no-auth',
      ],
    })
  })
  after(async () => {
    await gateway?.stop()
    await redis?.stop()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  async function submit(input: object): Promise<string> {
    const response = await fetch(`${gateway.url}/v1/workflows/slow.note/run`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', prefer: 'respond-async' },
      body: JSON.stringify(input),
    })
    await response.body?.cancel()
    assert.equal(response.status, 202)
    const runId = response.headers.get('x-switchyard-run-id')
    assert.ok(runId)
    return runId
  }

  const read = async (runId: string) => (await (await fetch(`${gateway.url}/v1/runs/${runId}`)).json()) as RunBody

  void test('POST async with no worker running: GET shows failed DEADLINE_EXCEEDED, the metric counts 1, a worker started later never runs it', async () => {
    const ledger = join(dir, 'ledger.txt')
    const runId = await submit({ ledger })
    const queued = await read(runId)
    assert.equal(queued.status, 'queued')
    const ended = await eventually(
      `run ${runId} to end`,
      async () => {
        const body = await read(runId)
        return body.status === 'queued' ? undefined : body
      },
      15_000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n--- gateway:\n${gateway.output()}`)
    })
    assert.equal(ended.status, 'failed', JSON.stringify(ended))
    assert.deepEqual(ended.error, { code: 'DEADLINE_EXCEEDED', message: EXPIRED_MESSAGE, retryable: false })
    assert.ok(
      Date.parse(ended.finishedAt ?? '') >= Date.parse(queued.deadline ?? ''),
      `ended ${ended.finishedAt}, deadline ${queued.deadline}`,
    )
    const metrics = await (await fetch(`${gateway.url}/metrics`)).text()
    assert.equal(sampleValue(metrics, 'switchyard_gateway_runs_expired_total', { pool: 'slow' }), 1)

    // The pool's worker comes up (under its own ACL user): it serves a new run, and never the expired one.
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([name]) => !name.startsWith('SWITCHYARD_') && !name.startsWith('OTEL_')),
    ) as Record<string, string>
    const worker = spawn(
      process.execPath,
      [
        '--import',
        import.meta.resolve('tsx'),
        WORKER_CLI,
        '--config',
        join(dir, 'switchyard.yaml'),
        '--pool',
        'slow',
        '--redis',
        user('switchyard-pool-slow'),
      ],
      { cwd: dir, env: { ...env, SWITCHYARD_VERIFY_KEYS: key.publicKey }, stdio: ['ignore', 'pipe', 'pipe'] },
    )
    let log = ''
    worker.stdout.on('data', (chunk: Buffer) => (log += chunk.toString()))
    worker.stderr.on('data', (chunk: Buffer) => (log += chunk.toString()))
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()))
    try {
      await eventually('the worker to serve', () => log.includes('switchyard worker: pool') || undefined, 60_000)
      const next = await submit({ ledger })
      const served = await eventually(
        `run ${next} to end`,
        async () => {
          const body = await read(next)
          return ['succeeded', 'failed', 'cancelled'].includes(body.status) ? body : undefined
        },
        20_000,
      ).catch((error: Error) => {
        throw new Error(`${error.message}\n--- worker:\n${log}`)
      })
      assert.equal(served.status, 'succeeded', `${JSON.stringify(served)}\n--- worker:\n${log}`)
      const lines = existsSync(ledger) ? readFileSync(ledger, 'utf8').split('\n').filter(Boolean) : []
      assert.deepEqual(lines, [next])
      assert.equal((await read(runId)).status, 'failed')
      assert.doesNotMatch(log, /NOPERM|no permissions/i)
    } finally {
      worker.kill('SIGTERM')
      await exited
    }
  })
})
