// Data-plane benchmark: a no-op workflow end to end on raw BullMQ, Switchyard on
// Redis (route() → signed envelope → RedisBroker → `switchyard worker` process →
// wait) and Switchyard in memory, same worker concurrency, same closed-loop load,
// measured side by side in one run (rounds interleave the modes so machine noise
// hits them alike). Prints p50/p99 latency, runs/s and the ratios to raw BullMQ.
// The "broker only" row is Switchyard on Redis with a verify-only worker process:
// what the broker costs, apart from the pool worker runtime.
//
// Each build's modes live in a child process of their own (host.ts), on a Redis of
// their own. With --before DIR (another checkout with its node_modules; repeatable),
// that build's modes run in the same interleaved rounds, the order of the builds
// alternating from round to round, and each of its rows is also set against this
// build's same row: the before/after ratio, measured side by side.
//
// With --model-delay MS every run's work waits MS milliseconds, as a graph waits for its
// model (the raw BullMQ processor and the verify-only handler wait as long): the ratios a
// user of a model-bound workflow sees. Not with --before (an older build's workers would
// not wait).
//
// Usage: node --import tsx bench/data-plane/run.ts [--runs 3000] [--concurrency 8] [--rounds 10] [--warmup 300] [--model-delay MS] [--before DIR]...
import { fork, type ChildProcess } from 'node:child_process'
import { basename, dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

import { startRedis, type RedisServer } from '../../test/helpers/redis.js'
import type { Reply, Request } from './host.js'

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3000' },
    concurrency: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '300' },
    before: { type: 'string', multiple: true, default: [] },
    'model-delay': { type: 'string', default: '0' },
  },
})
const modelDelayMs = Number(values['model-delay'])
if (!Number.isInteger(modelDelayMs) || modelDelayMs < 0)
  throw new Error(`--model-delay: not a whole number of milliseconds: ${values['model-delay']}`)
if (modelDelayMs > 0 && values.before.length > 0)
  throw new Error("--model-delay runs this build only: an older build's workers would not wait (no --before)")
const runs = Number(values.runs)
const concurrency = Number(values.concurrency)
const rounds = Number(values.rounds)
const warmup = Number(values.warmup)

const HOST = fileURLToPath(new URL('./host.ts', import.meta.url))
const HERE = resolve(dirname(HOST), '../..')

interface Build {
  readonly label: string
  readonly child: ChildProcess
  readonly redis: RedisServer
  names: string[]
  readonly results: { latencies: number[]; elapsedMs: number }[]
}

/** One reply from a host (its first message, or the answer to a request). */
function reply(child: ChildProcess): Promise<Reply> {
  return new Promise((done, fail) => {
    const onExit = (code: number | null) => fail(new Error(`a bench host exited (${code}) before it answered`))
    child.once('exit', onExit)
    child.once('message', (message: Reply) => {
      child.off('exit', onExit)
      if ('error' in message) fail(new Error(message.error))
      else done(message)
    })
  })
}

async function startBuild(label: string, root: string): Promise<Build> {
  const redis = await startRedis()
  const child = fork(HOST, [root, redis.url, String(concurrency)], {
    execArgv: ['--import', 'tsx'],
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, SWITCHYARD_BENCH_MODEL_DELAY_MS: String(modelDelayMs) },
  })
  const first = await reply(child)
  if (!('names' in first)) throw new Error(`${label}: the host did not list its modes`)
  return { label, child, redis, names: first.names, results: first.names.map(() => ({ latencies: [], elapsedMs: 0 })) }
}

async function load(build: Build, mode: number, count: number) {
  const request: Request = { mode, count }
  build.child.send(request)
  const answer = await reply(build.child)
  if (!('latencies' in answer)) throw new Error(`${build.label}: no latencies`)
  return answer
}

async function stopBuild(build: Build): Promise<void> {
  if (build.child.connected) {
    const exited = new Promise((done) => build.child.once('exit', done))
    build.child.send({ close: true } satisfies Request)
    await exited
  }
  await build.redis.stop()
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN
}

interface Row {
  readonly name: string
  readonly p50: number
  readonly p99: number
  readonly mean: number
  readonly max: number
  readonly rps: number
}

function rowsOf(build: Build): Row[] {
  return build.names.map((name, i) => {
    const { latencies, elapsedMs } = build.results[i]!
    const sorted = latencies.slice().sort((a, b) => a - b)
    return {
      name,
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      mean: latencies.reduce((sum, x) => sum + x, 0) / latencies.length,
      max: sorted[sorted.length - 1] ?? NaN,
      rps: (latencies.length / elapsedMs) * 1000,
    }
  })
}

async function main(): Promise<void> {
  const builds: Build[] = []
  try {
    builds.push(await startBuild(values.before.length ? 'this build' : '', HERE))
    for (const dir of values.before) builds.push(await startBuild(`before: ${basename(resolve(dir))}`, resolve(dir)))
    for (const build of builds) for (let mode = 0; mode < build.names.length; mode++) await load(build, mode, warmup)

    const perRound = Math.ceil(runs / rounds)
    for (let round = 0; round < rounds; round++) {
      // Every mode of every build each round; the builds' order turns round by round.
      const order = builds.map((_, i) => builds[(i + round) % builds.length]!)
      for (const build of order) {
        for (let mode = 0; mode < build.names.length; mode++) {
          const { latencies, elapsedMs } = await load(build, mode, perRound)
          build.results[mode]!.latencies.push(...latencies)
          build.results[mode]!.elapsedMs += elapsedMs
        }
      }
    }

    console.log(
      `data plane, ${modelDelayMs > 0 ? `a workflow whose model call waits ${modelDelayMs} ms` : 'no-op workflow'}: ${perRound * rounds} runs per mode in ${rounds} interleaved rounds, concurrency ${concurrency}, node ${process.version}`,
    )
    const mine = rowsOf(builds[0]!)
    for (const build of builds) {
      const rows = rowsOf(build)
      const raw = rows[0]!
      if (build.label) console.log(`\n${build.label}`)
      console.log('mode                 p50 ms   p99 ms  mean ms   max ms    runs/s   p50 ×raw  p99 ×raw  runs/s ×raw')
      for (const r of rows) {
        console.log(
          `${(r === raw ? r.name : `  ${r.name}`).replace(/^ {2}Switchyard/, 'Switchyard').padEnd(18)} ${r.p50.toFixed(3).padStart(8)} ${r.p99.toFixed(3).padStart(8)} ${r.mean.toFixed(3).padStart(8)} ${r.max.toFixed(1).padStart(8)} ${r.rps.toFixed(0).padStart(9)}` +
            `   ${(r.p50 / raw.p50).toFixed(2).padStart(7)}  ${(r.p99 / raw.p99).toFixed(2).padStart(8)}  ${(r.rps / raw.rps).toFixed(2).padStart(11)}`,
        )
      }
      if (build === builds[0] && modelDelayMs === 0) {
        const sy = rows[1]!
        const mem = rows[3]!
        console.log(
          `targets: redis p50 ≤1.5× raw: ${sy.p50 / raw.p50 <= 1.5 ? 'met' : 'MISSED'} · redis runs/s ≥0.7× raw: ${sy.rps / raw.rps >= 0.7 ? 'met' : 'MISSED'} · memory p50 <1 ms: ${mem.p50 < 1 ? 'met' : 'MISSED'}`,
        )
      } else if (build !== builds[0]) {
        // Each row's ratio to raw BullMQ, this build's over that build's: 1.00 is unchanged.
        const myRaw = mine[0]!
        console.log('this build ÷ before, of the ratio to raw BullMQ:   p50      p99   runs/s')
        rows.forEach((r, i) => {
          const m = mine[i]
          if (!m || i === 0) return
          console.log(
            `  ${r.name.trim().padEnd(46)} ${(m.p50 / myRaw.p50 / (r.p50 / raw.p50)).toFixed(2).padStart(6)}  ${(m.p99 / myRaw.p99 / (r.p99 / raw.p99)).toFixed(2).padStart(7)}  ${(m.rps / myRaw.rps / (r.rps / raw.rps)).toFixed(2).padStart(7)}`,
          )
        })
      }
    }
  } finally {
    for (const build of builds) await stopBuild(build)
  }
}

await main()
