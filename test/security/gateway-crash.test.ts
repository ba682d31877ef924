// Issue 12.1: a gateway crash does not take the pools with it. `switchyard start` on a
// real Redis, async runs accepted and queued, then kill -9 of the gateway process alone:
// the supervisor says so, starts it again on the same port with the session's keys, and
// the same worker processes (never restarted) finish every accepted run. SIGTERM then
// stops it all, gateway first.
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { test } from 'node:test'

import { eventually } from '../helpers/eventually.js'
import { redisSkip, startRedis } from '../helpers/redis.js'
import { alive, launch, type Launched } from '../helpers/start.js'

const REGISTRY = `version: 1
pools:
  slow:
    concurrency: 2
    processes: 2
    timeout: 60s
    tracing: { project: crash-slow }
workflows:
  slow.nap:
    pool: slow
    graph: nap.mjs#graph
    input: { type: object }
    description: Sleeps input.ms, then says which process ran it.
`

const GRAPH = `export function graph() {
  return async (input) => {
    await new Promise((resolve) => setTimeout(resolve, input.ms))
    return { pid: process.pid, n: input.n }
  }
}
`

interface RunView {
  readonly runId: string
  readonly status: string
  readonly output?: { pid: number; n: number }
}

void test(
  'start: kill -9 of the gateway alone loses no accepted run; the same workers finish them; it is back on its port',
  { skip: redisSkip(), timeout: 240_000 },
  async () => {
    const redis = await startRedis()
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-gateway-crash-'))
    mkdirSync(join(dir, 'env'))
    writeFileSync(join(dir, 'switchyard.yaml'), REGISTRY)
    writeFileSync(join(dir, 'nap.mjs'), GRAPH)
    const token = 'crash-test-token'
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` }
    let running: Launched | undefined
    const output = () => running?.output() ?? ''
    const workerPids = () => [...output().matchAll(/\[slow (\d+)\] switchyard worker: pool slow,/g)].map((m) => Number(m[1]))
    let gatewayPids: number[] = []
    try {
      running = await launch('start', {
        args: ['--config', join(dir, 'switchyard.yaml'), '--redis', redis.url],
        env: { SWITCHYARD_TOKENS: token, SWITCHYARD_SIGNING_KEY_FILE: '' },
      })
      const { child, url, exited } = running
      const why = (error: Error) => new Error(`${error.message}\n${output()}`)
      // Printed on the line after the URL launch() waits for: it may not have arrived yet.
      const first = await eventually(
        'the gateway process line',
        () => Number(/gateway process (\d+):/.exec(output())?.[1]) || undefined,
        10_000,
      ).catch(() => 0)
      assert.ok(first > 0 && first !== child.pid, `the gateway runs in a process of its own:\n${output()}`)
      gatewayPids = [first]
      await eventually('both workers ready', async () => ((await fetch(`${url}/readyz`)).status === 200 ? true : undefined), 90_000).catch(
        (error: Error) => {
          throw why(error)
        },
      )
      const workers = await eventually('both workers started', () => workerPids().length === 2 && workerPids(), 60_000)

      // The restart count, as the gateway serves it: none yet.
      const restartsMetric = async () => {
        const text = await (await fetch(`${url}/metrics`, { headers })).text()
        return /^switchyard_gateway_restarts_total (\d+)$/m.exec(text)?.[1]
      }
      assert.equal(await restartsMetric(), '0')

      // 4 run slots, 10 runs of 1.5 s: most are still queued or running when the gateway dies.
      const accepted: string[] = []
      for (let n = 0; n < 10; n++) {
        const response = await fetch(`${url}/v1/workflows/slow.nap/run`, {
          method: 'POST',
          headers: { ...headers, prefer: 'respond-async' },
          body: JSON.stringify({ ms: 1500, n }),
        })
        const body = (await response.json()) as RunView
        assert.equal(response.status, 202, JSON.stringify(body))
        accepted.push(body.runId)
      }
      const pending = async () => {
        const views = await Promise.all(
          accepted.map(async (id) => (await (await fetch(`${url}/v1/runs/${id}`, { headers })).json()) as RunView),
        )
        return views.filter((v) => v.status === 'queued' || v.status === 'running').length
      }
      assert.ok((await pending()) >= 4, 'runs are still queued or running when the gateway is killed')

      process.kill(first, 'SIGKILL')
      await eventually(
        'the crash said',
        () => output().includes(`the gateway (pid ${first}) exited unexpectedly (signal SIGKILL); the pools keep running`) || undefined,
        10_000,
      ).catch((error: Error) => {
        throw why(error)
      })
      const back = await eventually(
        'the gateway back',
        () => /the gateway is back on (\S+) \(pid (\d+), restart 1\)/.exec(output()) ?? undefined,
        60_000,
      ).catch((error: Error) => {
        throw why(error)
      })
      assert.equal(back[1], url, 'back on the same URL (same port)')
      const second = Number(back[2])
      gatewayPids.push(second)
      assert.notEqual(second, first)
      assert.equal(alive(first), false)
      assert.equal((await fetch(`${url}/healthz`)).status, 200)

      // Every accepted run ends succeeded, run by one of the workers that were there before the crash.
      const views = await eventually(
        'every accepted run finished',
        async () => {
          const all = await Promise.all(
            accepted.map(async (id) => (await (await fetch(`${url}/v1/runs/${id}`, { headers })).json()) as RunView),
          )
          return all.every((v) => v.status !== 'queued' && v.status !== 'running') ? all : undefined
        },
        90_000,
      ).catch((error: Error) => {
        throw why(error)
      })
      for (const view of views) {
        assert.equal(view.status, 'succeeded', JSON.stringify(view))
        assert.ok(workers.includes(view.output?.pid ?? -1), `run ${view.runId} ran in ${view.output?.pid}, not a worker from before`)
      }
      // The workers were never restarted: the same processes, alive, and no new ones started.
      assert.deepEqual(workerPids(), workers)
      for (const pid of workers) assert.ok(alive(pid), `worker ${pid} survived the gateway's crash`)
      assert.doesNotMatch(output(), /worker exited unexpectedly/)

      // The restarted gateway signs with the session's key: its new runs verify in the old workers.
      const after = await fetch(`${url}/v1/workflows/slow.nap/run`, { method: 'POST', headers, body: JSON.stringify({ ms: 10, n: 99 }) })
      const body = (await after.json()) as { pid: number }
      assert.equal(after.status, 200, JSON.stringify(body))
      assert.ok(workers.includes(body.pid))

      // The restarted gateway serves the count the supervisor handed it.
      assert.equal(await restartsMetric(), '1')

      // The status table counts the restart.
      child.kill('SIGUSR2')
      await eventually(
        'the status line',
        () => /gateway {2}up {2}pid (\d+) {2}restarts 1 \(last: signal SIGKILL\)/.exec(output()) ?? undefined,
        10_000,
      ).catch((error: Error) => {
        throw why(error)
      })
      assert.match(output(), new RegExp(`gateway  up  pid ${second}  restarts 1 \\(last: signal SIGKILL\\)`))

      child.kill('SIGTERM')
      assert.equal(await exited, 0, output())
      assert.match(output(), /switchyard start: stopping: the gateway first, then the pools/)
      assert.match(output(), /switchyard start: stopped\n/)
      for (const pid of [...workers, second]) assert.equal(alive(pid), false, `process ${pid} stopped with start`)
    } finally {
      await running?.stop('SIGKILL')
      for (const pid of [...workerPids(), ...gatewayPids]) if (alive(pid)) process.kill(pid, 'SIGKILL')
      await redis.stop()
      rmSync(dir, { recursive: true, force: true })
    }
  },
)

const CRASH = fileURLToPath(new URL('../fixtures/security/crash-on-request.mjs', import.meta.url))

void test('dev: a gateway crash is reported (what happened, the runs it lost, start + Redis) and exits 1; no worker outlives it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-dev-crash-'))
  writeFileSync(join(dir, 'switchyard.yaml'), REGISTRY.replace('concurrency: 2\n    processes: 2', 'concurrency: 1\n    processes: 1'))
  writeFileSync(join(dir, 'nap.mjs'), GRAPH)
  let running: Launched | undefined
  const output = () => running?.output() ?? ''
  const workerPids = () => [...output().matchAll(/\[slow (\d+)\] switchyard worker: pool slow,/g)].map((m) => Number(m[1]))
  try {
    running = await launch('dev', {
      args: ['--config', join(dir, 'switchyard.yaml')],
      imports: [CRASH],
      env: { SWITCHYARD_TOKENS: '', SWITCHYARD_SIGNING_KEY_FILE: '' },
    })
    const { url, exited } = running
    const why = (error: Error) => new Error(`${error.message}\n${output()}`)
    const [worker] = await eventually('the worker started', () => workerPids().length === 1 && workerPids(), 60_000).catch(
      (error: Error) => {
        throw why(error)
      },
    )
    // One run running, two queued: what the embedded broker holds when the process dies.
    const ids: string[] = []
    for (let n = 0; n < 3; n++) {
      const response = await fetch(`${url}/v1/workflows/slow.nap/run`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', prefer: 'respond-async' },
        body: JSON.stringify({ ms: 30_000, n }),
      })
      assert.equal(response.status, 202)
      ids.push(((await response.json()) as RunView).runId)
    }
    await eventually(
      'the first run running',
      async () => ((await (await fetch(`${url}/v1/runs/${ids[0]}`)).json()) as RunView).status === 'running',
      30_000,
    )

    await fetch(`${url}/__crash__`).catch(() => undefined)
    assert.equal(await exited, 1, output())
    assert.match(
      running.stderr(),
      /switchyard dev: CRASHED: an uncaught error \(uncaughtException\) in the process that holds the gateway and the embedded broker:\nError: injected fault/,
    )
    assert.match(
      running.stderr(),
      /- 2 queued and 1 running runs: the embedded broker keeps runs in this process's memory only, so they are lost/,
    )
    assert.match(running.stderr(), /For runs that survive a crash use switchyard start --redis URL/)
    await eventually('the worker gone with it', () => (worker !== undefined && !alive(worker)) || undefined, 15_000)
  } finally {
    await running?.stop('SIGKILL')
    for (const pid of workerPids()) if (alive(pid)) process.kill(pid, 'SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  }
})
