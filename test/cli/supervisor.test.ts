// `switchyard dev` and `switchyard start` as users run them: a real process with the
// gateway, the broker and the pool workers; a run over HTTP; SIGINT stops everything.
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { test } from 'node:test'

import { startRedis, redisSkip } from '../helpers/redis.js'
import { eventually } from '../data/supervisor/supervisor-helpers.js'
import { FIXTURE_REGISTRY } from '../data/worker/worker-helpers.js'
import { alive, launch, type Launched } from '../helpers/start.js'

const CLI = (name: string) => fileURLToPath(new URL(`../../src/cli/${name}.ts`, import.meta.url))

/** The fixture registry, no signing key, no tokens unless `env` gives some. */
const launchFixture = (command: 'dev' | 'start', args: string[], env: Record<string, string> = {}): Promise<Launched> =>
  launch(command, {
    args: ['--config', FIXTURE_REGISTRY, ...args],
    env: { SWITCHYARD_SIGNING_KEY: '', SWITCHYARD_TOKENS: '', ...env },
    timeoutMs: 30_000,
  })

async function runOverHttp(url: string, workflow: string, input: unknown, token?: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${url}/v1/workflows/${workflow}/run`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(input),
    signal: AbortSignal.timeout(20_000),
  })
  return { status: response.status, body: await response.json() }
}

/** python3 with the worker's dependencies importable (always so in CI: .ci/run installs ./python). */
function pythonReady(): boolean {
  const ok = spawnSync('python3', ['-c', 'import bullmq, opentelemetry.sdk, jsonschema'], { stdio: 'ignore' }).status === 0
  if (!ok && process.env.CI) throw new Error("python3 cannot import the worker's dependencies, and CI must run the python pool")
  return ok
}

async function exercise(command: 'dev' | 'start', running: Launched, token?: string): Promise<void> {
  // Workers start in the background (about a second each, here): wait until every node pool has one.
  for (const pool of ['work', 'email', 'discovery', 'hog', 'oom']) {
    await eventually(`a ${pool} worker`, () => running.output().includes(`switchyard worker: pool ${pool},`) || undefined, 60_000)
  }
  const echo = await runOverHttp(running.url, 'work.echo', { name: 'Ada' }, token)
  assert.equal(echo.status, 200, JSON.stringify(echo.body))
  assert.deepEqual((echo.body as { echo: unknown }).echo, { name: 'Ada' })
  const broken = await runOverHttp(running.url, 'work.broken', {}, token)
  assert.equal(broken.status, 502)
  assert.equal((broken.body as { code: string }).code, 'GRAPH_LOAD_FAILED')
  const secret = await runOverHttp(running.url, 'discovery.env', {}, token)
  assert.equal((secret.body as { EMAIL_SECRET: unknown }).EMAIL_SECRET, null)
  if (pythonReady()) {
    // On both brokers the supervisor also runs the python pool's worker: a run goes through it.
    const hello = await runOverHttp(running.url, 'py.hello', { name: 'Ada' }, token)
    assert.equal(hello.status, 200, JSON.stringify(hello.body))
    assert.deepEqual(hello.body, { name: 'Ada' })
  }
  assert.match(running.output(), /\npool\s+up\s+in-flight\s+queued\s+failed\s+crashes\n/)
  if (pythonReady()) {
    const how = command === 'dev' ? 'over IPC' : 'on Redis'
    assert.match(running.output(), new RegExp(`pool 'py' has runtime python: served by python3 -m switchyard_worker ${how}`))
  }
}

void test('switchyard dev: gateway + embedded broker + worker processes; SIGINT drains and exits 0', async () => {
  const running = await launchFixture('dev', [])
  await exercise('dev', running).finally(() => running.stop())
  assert.equal(await running.stop(), 0, running.output())
  assert.match(running.output(), /switchyard dev: auth is OFF \(loopback only\)/)
  assert.match(running.output(), /switchyard dev: stopped\n/)
})

void test('switchyard start: the same on Redis, workers consuming their queues directly', { skip: redisSkip() }, async () => {
  const redis = await startRedis()
  try {
    const running = await launchFixture('start', ['--redis', redis.url], { SWITCHYARD_TOKENS: 'start-token' })
    await exercise('start', running, 'start-token')
      .then(async () => {
        const anonymous = await runOverHttp(running.url, 'work.echo', { name: 'Ada' })
        assert.equal(anonymous.status, 401)
      })
      .finally(() => running.stop())
    assert.equal(await running.stop(), 0, running.output())
    assert.match(running.output(), /switchyard start: stopped\n/)
    // Each worker left by itself once drained: the IPC channel to the supervisor kept it alive until killed.
    assert.doesNotMatch(running.output(), /did not stop within/)
  } finally {
    await redis.stop()
  }
})

void test('switchyard start refuses to run open unless --no-auth says so', { skip: redisSkip() }, async () => {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', CLI('start'), '--config', FIXTURE_REGISTRY, '--port', '0', '--redis', 'redis://127.0.0.1:1'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, SWITCHYARD_TOKENS: '' },
    },
  )
  let text = ''
  child.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString()))
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
  assert.equal(code, 1)
  assert.match(
    text,
    /refusing to start without auth: set SWITCHYARD_TOKENS \(comma-separated\) or --tokens-file FILE, or pass --no-auth to run open/,
  )
})

void test('switchyard dev killed with SIGKILL: its workers notice and exit (no orphans)', async () => {
  const running = await launchFixture('dev', [])
  try {
    await eventually('a work worker', () => /\[work (\d+)\] switchyard worker: pool work,/.exec(running.output())?.[1], 60_000)
  } catch (error) {
    await running.stop()
    throw error
  }
  const pids = [...running.output().matchAll(/\[\w+ (\d+)\] switchyard worker: pool/g)].map((m) => Number(m[1]))
  assert.ok(pids.length >= 1)
  running.child.kill('SIGKILL')
  await running.stop()
  await eventually('every worker to exit', () => (pids.every((pid) => !alive(pid)) ? true : undefined), 15_000).catch((error: Error) => {
    for (const pid of pids.filter(alive)) process.kill(pid, 'SIGKILL')
    throw error
  })
})
