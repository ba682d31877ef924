// Issue 13.2–13.3 without a supervisor: workers started by hand (`python3 -m switchyard_worker`,
// `switchyard worker`), as systemd or Kubernetes would, beside `switchyard gateway`, on a real
// redis-server with the ACL users `switchyard acl` prints. Each is its pool's only worker, so
// no live worker of the pool can reap it (and a Python pool has no reaper of its own): the
// gateway does (RedisBroker's `reap`). A kill -9 mid-run puts the run back in the queue
// within seconds (the heartbeat's lifetime, not BullMQ's lock: 30 s for Python, 60 s for
// node), counted as a crash; a run past its deadline ends WORKER_LOST; a graph that kills its
// worker every time ends WORKER_CRASHED after 2 crashes. Each graph start appends a ledger
// line (run id, pid). Without the gateway's reaper each of these waits for BullMQ's lock.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'

import { loadRegistry } from '../../../../src/control/index.js'
import { writeResolvedRegistry } from '../../../../src/control/tooling/index.js'
import { generateSigningKey, signingKeyPem } from '../../../../src/data/index.js'
import { eventually } from '../../../helpers/eventually.js'
import { aclUsers } from '../../../helpers/pool-acl.js'
import { PYTHON, pythonSkip } from '../../../helpers/python.js'
import { redisSkip, startRedis, type RedisServer } from '../../../helpers/redis.js'
import { alive, launch, type Launched } from '../../../helpers/start.js'

const PYTHON_DIR = fileURLToPath(new URL('../../../../python', import.meta.url))
const WORKER_CLI = fileURLToPath(new URL('../../../../src/cli/worker.ts', import.meta.url))
const skip = redisSkip() || pythonSkip(['opentelemetry.sdk', 'jsonschema', 'bullmq'])

const REGISTRY = `version: 1
pools:
  py:
    runtime: python
    concurrency: 1
    timeout: 20s
  node:
    concurrency: 1
    timeout: 20s
workflows:
  py.nap: { pool: py, graph: graphs.py#nap, input: { type: object }, description: Writes a ledger line per start and sleeps. }
  py.die: { pool: py, graph: graphs.py#die, input: { type: object }, description: Writes a ledger line and kill -9s its worker. }
  py.short: { pool: py, graph: graphs.py#nap, timeout: 5s, input: { type: object }, description: nap with a 5 s deadline. }
  node.nap: { pool: node, graph: graphs.mjs#nap, input: { type: object }, description: Writes a ledger line per start and sleeps. }
  node.die: { pool: node, graph: graphs.mjs#die, input: { type: object }, description: Writes a ledger line and kill -9s its worker. }
  node.short: { pool: node, graph: graphs.mjs#nap, timeout: 5s, input: { type: object }, description: nap with a 5 s deadline. }
`

// Module-level imports: only typing, __future__ and switchyard_worker (switchyard check's lint).
const PY_GRAPHS = `from __future__ import annotations

from typing import Any


def _ledger(input: Any, run: Any) -> None:
    import json
    import os

    with open(input["ledger"], "a", encoding="utf-8") as file:
        file.write(json.dumps({"run": run.run_id, "pid": os.getpid()}) + "\\n")


async def nap(input: Any, run: Any) -> Any:
    import asyncio

    _ledger(input, run)
    await asyncio.sleep(input.get("sleep", 0))
    return {"slept": input.get("sleep", 0)}


def die(input: Any, run: Any) -> Any:
    import os
    import signal

    _ledger(input, run)
    os.kill(os.getpid(), signal.SIGKILL)
    return {"unreachable": True}
`

const NODE_GRAPHS = `import { appendFileSync } from 'node:fs'

const ledger = (input, run) => appendFileSync(input.ledger, JSON.stringify({ run: run.runId, pid: process.pid }) + '\\n')

export function nap() {
  return async (input, run) => {
    ledger(input, run)
    await new Promise((resolve) => setTimeout(resolve, (input.sleep ?? 0) * 1000))
    return { slept: input.sleep ?? 0 }
  }
}

export function die() {
  return (input, run) => {
    ledger(input, run)
    process.kill(process.pid, 'SIGKILL')
  }
}
`

interface Line {
  readonly run: string
  readonly pid: number
}

interface RunBody {
  readonly status: string
  readonly output?: unknown
  readonly attempts?: number
  readonly deadline?: string
  readonly error?: { readonly code: string; readonly message: string }
}

interface Started {
  readonly pid: number
  output(): string
  stop(): Promise<void>
}

type Language = 'python' | 'node'
const POOL: Record<Language, string> = { python: 'py', node: 'node' }

void describe('workers without a supervisor, reaped by the gateway (Redis)', { skip }, () => {
  let redis: RedisServer
  let gateway: Launched
  let dir: string
  let resolved: string
  let config: string
  let user: (name: string) => string
  const key = generateSigningKey()
  const started: Started[] = []

  before(async () => {
    redis = await startRedis()
    dir = mkdtempSync(join(tmpdir(), 'switchyard-gateway-reaper-'))
    config = join(dir, 'switchyard.yaml')
    writeFileSync(config, REGISTRY)
    writeFileSync(join(dir, 'graphs.py'), PY_GRAPHS)
    writeFileSync(join(dir, 'graphs.mjs'), NODE_GRAPHS)
    writeFileSync(join(dir, 'signing.pem'), signingKeyPem(key), { mode: 0o600 })
    resolved = writeResolvedRegistry(loadRegistry(config))
    // Least privilege: the gateway reaps with the user `switchyard acl` gives it, each pool's worker with its own.
    user = await aclUsers(config, redis.url, redis.port)
    gateway = await launch('gateway', {
      args: ['--config', config, '--redis', user('switchyard-gateway'), '--signing-key', join(dir, 'signing.pem'), '--no-auth'],
    })
  })
  after(async () => {
    await Promise.all(started.map((worker) => worker.stop()))
    await gateway?.stop()
    await redis?.stop()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  /** Start one worker of `language`'s pool by hand, as a service manager would; resolves once it serves. */
  async function startWorker(language: Language): Promise<Started> {
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([name]) => !name.startsWith('SWITCHYARD_') && !name.startsWith('OTEL_')),
    ) as Record<string, string>
    const redisUrl = user(`switchyard-pool-${POOL[language]}`)
    const [command, args, ready] =
      language === 'python'
        ? [
            PYTHON,
            ['-m', 'switchyard_worker', '--registry', resolved, '--pool', 'py', '--redis', redisUrl, '--port', '-1'],
            'switchyard python worker:',
          ]
        : [
            process.execPath,
            ['--import', import.meta.resolve('tsx'), WORKER_CLI, '--config', config, '--pool', 'node', '--redis', redisUrl],
            'switchyard worker: pool',
          ]
    const child = spawn(command, args, {
      cwd: dir,
      env: { ...env, PYTHONPATH: PYTHON_DIR, SWITCHYARD_VERIFY_KEYS: key.publicKey },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let log = ''
    child.stdout.on('data', (chunk: Buffer) => (log += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (log += chunk.toString()))
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    const worker: Started = {
      pid: child.pid ?? -1,
      output: () => log,
      async stop() {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
        await exited
        clearTimeout(timer)
      },
    }
    started.push(worker)
    await eventually(
      `the ${language} worker to serve`,
      () => {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the ${language} worker exited:\n${log}`)
        return log.includes(ready) || undefined
      },
      60_000,
    )
    return worker
  }

  async function submit(workflow: string, input: object): Promise<string> {
    const response = await fetch(`${gateway.url}/v1/workflows/${workflow}/run`, {
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

  async function record(runId: string): Promise<RunBody> {
    return (await (await fetch(`${gateway.url}/v1/runs/${runId}`)).json()) as RunBody
  }

  /** The run once it has `status` (or any end when `status` is 'ended'), within `timeoutMs`. */
  async function reaches(runId: string, status: string, timeoutMs: number, workers: readonly Started[] = []): Promise<RunBody> {
    return eventually(
      `run ${runId} to be ${status}`,
      async () => {
        const body = await record(runId)
        const ended = ['succeeded', 'failed', 'cancelled'].includes(body.status)
        return (status === 'ended' ? ended : body.status === status) ? body : undefined
      },
      timeoutMs,
    ).catch(async (error: Error) => {
      const logs = workers.map((worker) => `--- worker ${worker.pid}:\n${worker.output()}`).join('\n')
      throw new Error(`${error.message} (it is ${JSON.stringify(await record(runId))})\n--- gateway:\n${gateway.output()}\n${logs}`)
    })
  }

  function ledger(file: string, runId: string): Line[] {
    if (!existsSync(file)) return []
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Line)
      .filter((line) => line.run === runId)
  }

  const starts = (file: string, runId: string, n: number) =>
    eventually(`run ${runId} to start ${n} time(s)`, () => {
      const lines = ledger(file, runId)
      return lines.length >= n ? lines : undefined
    })

  for (const language of ['python', 'node'] as const) {
    const pool = POOL[language]

    void test(`${language}: its only worker kill -9'd mid-run, the run is queued again within seconds and the next worker runs it`, async (t) => {
      const file = join(dir, `ledger-${language}-kill.jsonl`)
      const first = await startWorker(language)
      const runId = await submit(`${pool}.nap`, { ledger: file, sleep: 2 })
      const [line] = await starts(file, runId, 1)
      assert.equal(line?.pid, first.pid)
      process.kill(first.pid, 'SIGKILL')
      const killedAt = Date.now()
      // Bounded by the heartbeat (2 s) and the reaper's pass (0.5 s), not BullMQ's lock (30 s / 60 s):
      // nobody else could have put it back, the pool has no other worker.
      await reaches(runId, 'queued', 10_000, [first])
      t.diagnostic(`${language}: queued again ${Date.now() - killedAt} ms after the kill -9`)
      assert.equal(alive(first.pid), false)

      // The service manager starts a worker again: it runs the run, the crash counted as its first attempt.
      const second = await startWorker(language)
      const body = await reaches(runId, 'ended', 20_000, [second])
      assert.equal(body.status, 'succeeded', JSON.stringify(body))
      assert.deepEqual(body.output, { slept: 2 })
      assert.equal(body.attempts, 2)
      assert.deepEqual(
        ledger(file, runId).map((l) => l.pid),
        [first.pid, second.pid],
      )
      await second.stop()
    })

    void test(`${language}: its only worker kill -9'd within a second of the run's deadline, the run ends WORKER_LOST`, async () => {
      const file = join(dir, `ledger-${language}-lost.jsonl`)
      const worker = await startWorker(language)
      const runId = await submit(`${pool}.short`, { ledger: file, sleep: 60 })
      await starts(file, runId, 1)
      const { deadline } = await record(runId)
      // Killed with under a second left: the heartbeat expires (2 s) after the deadline has passed.
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, Date.parse(deadline ?? '') - 1000 - Date.now())))
      process.kill(worker.pid, 'SIGKILL')
      const body = await reaches(runId, 'ended', 10_000, [worker])
      assert.equal(body.status, 'failed', JSON.stringify(body))
      assert.equal(body.error?.code, 'WORKER_LOST', JSON.stringify(body))
      assert.match(body.error?.message ?? '', /stopped beating/)
      assert.equal(ledger(file, runId).length, 1)
    })

    void test(`${language}: a graph that kills its worker every time ends WORKER_CRASHED after 2 crashes, never started a third time`, async () => {
      const file = join(dir, `ledger-${language}-poison.jsonl`)
      // Three workers of one run each, none supervised: each crash takes one down for good.
      const workers = await Promise.all([startWorker(language), startWorker(language), startWorker(language)])
      const submittedAt = Date.now()
      const runId = await submit(`${pool}.die`, { ledger: file })
      const body = await reaches(runId, 'ended', 15_000, workers)
      assert.equal(body.status, 'failed', JSON.stringify(body))
      assert.equal(body.error?.code, 'WORKER_CRASHED', JSON.stringify(body))
      assert.match(body.error?.message ?? '', new RegExp(`run ${runId} was dead-lettered after its worker died under it 2 times`))
      // Long before its 20 s deadline: not WORKER_LOST, not BullMQ's stalled check.
      assert.ok(Date.now() - submittedAt < 15_000)
      const lines = ledger(file, runId)
      assert.equal(lines.length, 2, JSON.stringify(lines))
      assert.notEqual(lines[0]?.pid, lines[1]?.pid)

      // The worker left serves the pool's next run; the poison run is not taken again.
      const next = await submit(`${pool}.nap`, { ledger: file, sleep: 0 })
      const served = await reaches(next, 'ended', 20_000, workers)
      assert.equal(served.status, 'succeeded', JSON.stringify(served))
      assert.equal(ledger(file, runId).length, 2)
      await Promise.all(workers.map((worker) => worker.stop()))
    })
  }
})
