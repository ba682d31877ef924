// Issue 12 review: slow-header connections. With Node's defaults (no connection cap, 60 s
// for the headers, checked every 30 s) a hostile caller held ~17,000 connections open, a
// byte of headers now and then, past the gateway's file descriptors: every other caller
// was refused. Here `switchyard dev` runs under a 256-descriptor limit (prlimit), and a
// hostile caller keeps 600 slow-header connections open, opening a new one as soon as
// one closes; a well-behaved caller must still be served, the gateway must not crash nor
// log EMFILE, and a slow-header connection must be cut at the configured headers timeout.
// Also: the whole-request timeout bounds receiving a request, never waiting for a run.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { spawnSync } from 'node:child_process'

import { eventually } from '../helpers/eventually.js'
import { sampleValue } from '../helpers/prometheus.js'
import { launch, type Launched } from '../helpers/start.js'

const REGISTRY = `version: 1
pools:
  calm:
    concurrency: 4
    processes: 1
    timeout: 30s
    tracing: { project: slow-conn-calm }
workflows:
  calm.echo:
    pool: calm
    graph: echo.mjs#graph
    input: { type: object }
    description: Waits input.ms (0 by default), then echoes input.n.
`

const GRAPH = `export function graph() {
  return async (input) => {
    await new Promise((resolve) => setTimeout(resolve, input.ms ?? 0))
    return { n: input.n }
  }
}
`

const FD_LIMIT = 256
const HOSTILE = 600
const prlimitSkip = spawnSync('prlimit', ['--version']).status === 0 ? false : 'prlimit (util-linux) is not installed'

/** Keeps `count` connections sending a request's headers a byte at a time; each one closed is opened again. */
function slowHeaders(url: string, count: number) {
  const { hostname, port } = new URL(url)
  const sockets = new Set<Socket>()
  let stopped = false
  let accepted = 0
  let closed = 0
  const open = () => {
    if (stopped) return
    const socket = connect({ host: hostname, port: Number(port) })
    sockets.add(socket)
    socket.on('connect', () => {
      accepted++
      socket.write(`POST /v1/workflows/calm.echo/run HTTP/1.1\r\nHost: ${hostname}:${port}\r\n`)
    })
    socket.on('error', () => undefined)
    socket.on('close', () => {
      sockets.delete(socket)
      closed++
      setImmediate(open)
    })
  }
  for (let i = 0; i < count; i++) open()
  const drip = setInterval(() => {
    for (const socket of sockets) if (socket.writable) socket.write('X')
  }, 500)
  return {
    stats: () => ({ accepted, closed, open: sockets.size }),
    stop() {
      stopped = true
      clearInterval(drip)
      for (const socket of sockets) socket.destroy()
    },
  }
}

async function runEcho(url: string, input: object): Promise<{ status: number; body: unknown }> {
  try {
    const res = await fetch(`${url}/v1/workflows/calm.echo/run`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(input),
      signal: AbortSignal.timeout(20_000),
    })
    return { status: res.status, body: await res.json() }
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause
    throw new Error(`run ${JSON.stringify(input)}: ${String(error)} (${cause?.code ?? ''} ${cause?.message ?? ''})`)
  }
}

void test(
  `dev under a ${FD_LIMIT}-descriptor limit: ${HOSTILE} slow-header connections, reopened as they close, do not keep a well-behaved caller out`,
  { skip: prlimitSkip, timeout: 120_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-slow-conn-'))
    writeFileSync(join(dir, 'switchyard.yaml'), REGISTRY)
    writeFileSync(join(dir, 'echo.mjs'), GRAPH)
    let running: Launched | undefined
    let hostile: ReturnType<typeof slowHeaders> | undefined
    try {
      running = await launch('dev', {
        args: ['--config', join(dir, 'switchyard.yaml')],
        wrapper: ['prlimit', `--nofile=${FD_LIMIT}`, '--'],
        env: { SWITCHYARD_TOKENS: '', SWITCHYARD_GATEWAY_HEADERS_TIMEOUT: '2s', SWITCHYARD_GATEWAY_REQUEST_TIMEOUT: '2s' },
      })
      const { url, child } = running
      const output = running.output
      await eventually('the pool ready', async () => (await fetch(`${url}/readyz`)).status === 200, 60_000)

      // The whole-request bound is on receiving the request: a run that takes longer is still answered.
      const long = await runEcho(url, { n: 0, ms: 4000 })
      assert.deepEqual(long, { status: 200, body: { n: 0 } }, 'a run longer than the request timeout is answered')

      hostile = slowHeaders(url, HOSTILE)
      const attack = hostile
      // Past the cap many times over: the gateway has had to close connections to make room.
      await eventually('the hostile caller to have had 3 × 600 connections accepted', () => attack.stats().accepted >= 3 * HOSTILE, 60_000)

      for (let n = 1; n <= 20; n++) {
        const answer = await runEcho(url, { n })
        assert.deepEqual(
          answer,
          { status: 200, body: { n } },
          `run ${n} of the well-behaved caller, beside ${JSON.stringify(attack.stats())}`,
        )
      }
      const health = await fetch(`${url}/healthz`)
      assert.equal(health.status, 200)

      const metrics = await (await fetch(`${url}/metrics`)).text()
      const evicted = sampleValue(metrics, 'switchyard_gateway_connections_shed_total', { reason: 'evicted' }) ?? 0
      assert.ok(evicted > 0, `connections closed to make room are counted:\n${metrics}`)
      const open = sampleValue(metrics, 'switchyard_gateway_connections')
      assert.ok(open !== undefined && open < FD_LIMIT, `open connections stay under the descriptor limit: ${open}`)
      hostile.stop()
      hostile = undefined

      // One slow-header connection alone: cut at the 2 s headers timeout (Node's default: 60 s, checked every 30 s).
      const { hostname, port } = new URL(url)
      const slow = connect({ host: hostname, port: Number(port) })
      const started = Date.now()
      let answer = ''
      slow.on('data', (chunk: Buffer) => (answer += chunk.toString()))
      slow.on('error', () => undefined)
      slow.write(`GET /healthz HTTP/1.1\r\nHost: ${hostname}:${port}\r\n`)
      const drip = setInterval(() => slow.writable && slow.write('X'), 200)
      const closedAfter = await new Promise<number>((resolve) => slow.once('close', () => resolve(Date.now() - started)))
      clearInterval(drip)
      assert.ok(closedAfter < 15_000, `a connection still sending its headers is closed within the timeout, after ${closedAfter} ms`)
      assert.match(answer, /^HTTP\/1\.1 408 /, 'with a 408')

      assert.equal(child.exitCode, null, `the gateway is still running:\n${output()}`)
      assert.doesNotMatch(output(), /EMFILE|ENFILE|too many open files/i, 'no descriptor exhaustion anywhere in its output')
    } finally {
      hostile?.stop()
      await running?.stop()
      rmSync(dir, { recursive: true, force: true })
    }
  },
)
