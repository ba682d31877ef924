// The chaos rig: Switchyard as it is deployed, in real processes on loopback. A
// redis-server with AOF (everysec) in a temp folder, and `switchyard start --redis`
// (the supervisor, forking the gateway and each pool's worker processes) on a chaos
// registry: a `neighbour` pool serving steady traffic and a `faulty` pool whose graphs
// misbehave on request. Every graph that does work writes a ledger line per start and
// end (runId, idempotency key, attempt, pid): the ledger is how executions are counted,
// independently of what the broker says.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { freePort, startRedis, type RedisServer } from '../helpers/redis.js'
import { alive } from '../helpers/start.js'

const BIN = fileURLToPath(new URL('../../bin/switchyard.js', import.meta.url))

/** The chaos registry. `faulty`'s graphs fail on purpose; `neighbour` only does its work. */
export const REGISTRY = `
version: 1
pools:
  neighbour:
    concurrency: 8
    processes: 1
    timeout: 10s
    retries: 0
    maxQueued: 1000
    env: env/chaos.env
    tracing: { project: neighbour, sampleRate: 0.0, capture: none }
  faulty:
    concurrency: 4
    processes: 2
    timeout: 6s
    retries: 2
    maxQueued: 40
    memory: 96mb
    env: env/chaos.env
    tracing: { project: faulty, sampleRate: 0.0, capture: none }
workflows:
  neighbour.echo:
    pool: neighbour
    graph: graphs/chaos.mjs#echo
    description: The neighbour's steady traffic (a 20 ms model call).
    input: { type: object }
  chaos.work:
    pool: faulty
    graph: graphs/chaos.mjs#work
    description: Does its work (input.ms) and writes the ledger.
    input: { type: object }
  chaos.work-long:
    pool: faulty
    graph: graphs/chaos.mjs#work
    timeout: 30s
    description: chaos.work with a long deadline.
    input: { type: object }
  chaos.throw:
    pool: faulty
    graph: graphs/chaos.mjs#throws
    description: Throws.
    input: { type: object }
  chaos.hang:
    pool: faulty
    graph: graphs/chaos.mjs#hang
    description: Never settles, and ignores its abort signal.
    input: { type: object }
  chaos.spin:
    pool: faulty
    graph: graphs/chaos.mjs#spin
    description: Busy-loops, ignoring its abort signal.
    input: { type: object }
  chaos.heap:
    pool: faulty
    graph: graphs/chaos.mjs#heap
    description: Allocates until its heap cap.
    input: { type: object }
  chaos.exit:
    pool: faulty
    graph: graphs/chaos.mjs#exit
    description: Calls process.exit.
    input: { type: object }
  chaos.schema:
    pool: faulty
    graph: graphs/chaos.mjs#schema
    description: Returns what its output schema refuses.
    input: { type: object }
    output:
      type: object
      required: [answer]
      properties: { answer: { type: string } }
  chaos.big:
    pool: faulty
    graph: graphs/chaos.mjs#big
    description: Returns 5 MB.
    input: { type: object }
`

const GRAPHS = `
import { appendFileSync } from 'node:fs'

const LEDGER = process.env.CHAOS_LEDGER

function note(input, run, event) {
  if (!LEDGER) return
  appendFileSync(LEDGER, JSON.stringify({ runId: run.runId, key: input.key ?? null, attempt: run.attempt, pid: process.pid, event, at: Date.now() }) + '\\n')
}

function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason)
    const timer = setTimeout(resolve, ms)
    signal.addEventListener('abort', () => { clearTimeout(timer); reject(signal.reason) }, { once: true })
  })
}

export function echo() {
  return async (input, run) => { await sleep(20, run.signal); return { n: input.n ?? null } }
}
export function work() {
  return async (input, run) => {
    note(input, run, 'start')
    await sleep(input.ms ?? 200, run.signal)
    note(input, run, 'end')
    return { n: input.n ?? null, attempt: run.attempt }
  }
}
export function throws() {
  return (input, run) => { note(input, run, 'start'); throw new Error('the graph threw on purpose') }
}
export function hang() {
  return (input, run) => { note(input, run, 'start'); return new Promise(() => undefined) }
}
export function spin() {
  return (input, run) => { note(input, run, 'start'); for (;;) {} }
}
export function heap() {
  return (input, run) => {
    note(input, run, 'start')
    const hog = []
    for (;;) hog.push(new Array(100000).fill(Math.random()))
  }
}
export function exit() {
  return (input, run) => { note(input, run, 'start'); process.exit(7) }
}
export function schema() {
  return (input, run) => { note(input, run, 'start'); return { answer: 42, extra: 'not what the schema says' } }
}
export function big() {
  return (input, run) => { note(input, run, 'start'); const blob = 'x'.repeat(5 * 1024 * 1024); note(input, run, 'end'); return { blob } }
}
`

export interface LedgerLine {
  readonly runId: string
  readonly key: string | null
  readonly attempt: number
  readonly pid: number
  readonly event: 'start' | 'end'
  readonly at: number
}

export interface Rig {
  /** The gateway's URL (the same port across a gateway restart). */
  readonly url: string
  readonly redis: RedisServer
  /** The pid of the gateway's process now (a child of `switchyard start`). */
  gatewayPid(): number
  /** Pids of live worker processes of a pool, newest last (from the workers' start lines). */
  workers(pool: string): number[]
  /** Every ledger line so far. */
  ledger(): LedgerLine[]
  /** SIGKILL Redis; `restart()` brings it back on the same port and AOF. */
  killRedis(): Promise<void>
  restartRedis(): Promise<void>
  /** SIGKILL the gateway's process alone; `switchyard start` starts it again on the same port. */
  killGateway(): Promise<void>
  /** SIGKILL the `switchyard start` process (the supervisor); its gateway and workers notice, drain and exit. */
  killStart(): Promise<void>
  /** Start `switchyard start` again on the same port and wait until every pool is ready. */
  restartStart(): Promise<void>
  /** Wait until /readyz says every pool has a live worker. */
  ready(timeoutMs?: number): Promise<void>
  /** Everything the processes printed (for a failure message). */
  log(): string
  close(): Promise<void>
}

const REDIS_ARGS = ['--appendonly', 'yes', '--appendfsync', 'everysec']

/** Start Redis and `switchyard start` on the chaos registry; resolves once every pool is ready. */
export async function startRig(options: { quiet?: boolean; bin?: string; faultyCpu?: number } = {}): Promise<Rig> {
  // Another checkout's bin/switchyard.js (built) to measure it beside this one: bench/neighbour --before DIR.
  const bin = options.bin ?? BIN
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-chaos-'))
  mkdirSync(join(dir, 'graphs'))
  mkdirSync(join(dir, 'env'))
  const ledgerPath = join(dir, 'ledger.jsonl')
  writeFileSync(ledgerPath, '')
  // faultyCpu: a `cpu:` cap (cores) on the faulty pool, as an operator would set one (bench/neighbour --cpu).
  const registry =
    options.faultyCpu === undefined ? REGISTRY : REGISTRY.replace('    memory: 96mb\n', `    memory: 96mb\n    cpu: ${options.faultyCpu}\n`)
  writeFileSync(join(dir, 'switchyard.yaml'), registry)
  writeFileSync(join(dir, 'graphs', 'chaos.mjs'), GRAPHS)
  writeFileSync(join(dir, 'env', 'chaos.env'), `CHAOS_LEDGER=${ledgerPath}\n`)
  const logPath = join(dir, 'processes.log')
  // One signing key across gateway restarts: runs queued by the gateway that was killed are verified by the next one's workers.
  const keyPath = join(dir, 'signing-key.pem')
  const made = spawnSync(process.execPath, [bin, 'keys', 'generate', '--out', keyPath], { encoding: 'utf8' })
  if (made.status !== 0) throw new Error(`switchyard keys generate failed: ${made.stderr}`)

  let redis = await startRedis(REDIS_ARGS)
  const redisPlace = { dir: redis.dir, port: redis.port }
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const pids = new Map<string, number[]>()
  const gateways: number[] = []
  let start: ChildProcess | null = null

  const record = (text: string) => {
    // Each line stamped with when the rig read it: restarts and kills can be timed from the log.
    const at = new Date().toISOString().slice(11, 23)
    appendFileSync(logPath, text.replace(/^(?=.)/gm, `${at} `))
    for (const match of text.matchAll(/"msg":"worker started","pool":"([^"]+)","pid":(\d+)/g)) {
      const pool = match[1] ?? ''
      pids.set(pool, [...(pids.get(pool) ?? []), Number(match[2])])
    }
    for (const match of text.matchAll(/switchyard start: (?:gateway process (\d+):|the gateway is back on \S+ \(pid (\d+),)/g)) {
      gateways.push(Number(match[1] ?? match[2]))
    }
  }

  const launch = () => {
    const child = spawn(
      process.execPath,
      [
        bin,
        'start',
        '--redis',
        redis.url,
        '--config',
        join(dir, 'switchyard.yaml'),
        '--port',
        String(port),
        '--no-auth',
        '--signing-key',
        keyPath,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SWITCHYARD_SIGNING_KEY: '', NODE_OPTIONS: '' } },
    )
    let pending = ''
    const onData = (chunk: Buffer) => {
      pending += chunk.toString()
      const cut = pending.lastIndexOf('\n')
      if (cut < 0) return
      record(pending.slice(0, cut + 1))
      pending = pending.slice(cut + 1)
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    if (!options.quiet) child.on('exit', (code, signal) => appendFileSync(logPath, `[rig] switchyard start exited ${code ?? signal}\n`))
    start = child
  }

  const rig: Rig = {
    url,
    get redis() {
      return redis
    },
    gatewayPid: () => gateways.at(-1) ?? 0,
    workers: (pool) => (pids.get(pool) ?? []).filter(alive),
    ledger: () =>
      readFileSync(ledgerPath, 'utf8')
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as LedgerLine),
    async killRedis() {
      await redis.kill()
    },
    async restartRedis() {
      redis = await startRedis(REDIS_ARGS, redisPlace)
    },
    async killGateway() {
      const pid = gateways.at(-1)
      if (pid === undefined || !alive(pid)) return
      process.kill(pid, 'SIGKILL')
      while (alive(pid)) await new Promise((resolve) => setTimeout(resolve, 20))
    },
    async killStart() {
      const child = start
      if (!child || child.exitCode !== null || child.signalCode !== null) return
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGKILL')
      await exited
    },
    async restartStart() {
      launch()
      await rig.ready()
    },
    async ready(timeoutMs = 60_000) {
      const until = Date.now() + timeoutMs
      for (;;) {
        const ok = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) })
          .then((res) => res.status === 200)
          .catch(() => false)
        if (ok) return
        if (Date.now() > until) throw new Error(`the chaos rig was not ready within ${timeoutMs} ms:\n${rig.log().slice(-4000)}`)
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    },
    log: () => readFileSync(logPath, 'utf8'),
    async close() {
      const child = start
      if (child && child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve))
        child.kill('SIGTERM')
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
        await exited
        clearTimeout(timer)
      }
      // Workers and gateways of a killed `start` drain and exit on their own; any still here are ours to end.
      for (const pid of [...pids.values(), gateways].flat()) if (alive(pid)) process.kill(pid, 'SIGKILL')
      await redis.stop()
      rmSync(redis.dir, { recursive: true, force: true })
      rmSync(dir, { recursive: true, force: true })
    },
  }
  writeFileSync(logPath, '')
  launch()
  try {
    await rig.ready()
  } catch (error) {
    await rig.close()
    throw error
  }
  return rig
}
