// One measurement of bench/tracing/run.ts as deployed: `switchyard dev` in child
// processes (the gateway with the embedded broker and trace store, and the pool's
// worker process fed over IPC), driven over HTTP from this process. Tracing `on` is
// what dev does by default: the worker exports OTLP/protobuf to the gateway's
// receiver, the gateway writes its own spans straight into its store. `off` sets
// OTEL_SDK_DISABLED=true for all of them.
// Prints one JSON line: runs/s (wall, first request to last response) and CPU ms per
// run of the dev processes (gateway + worker, and each, from /proc), counted until
// every span of the last runs is in the store.
//
// BATCH_DELAY_MS, when given, is OTEL_BSP_SCHEDULE_DELAY for the gateway and the worker
// (the batch span processor's delay), instead of the build's default.
//
// usage: node --import tsx bench/tracing/measure-dev.ts off|on RUNS CONCURRENCY [WARMUP] [MODEL_DELAY_MS] [BATCH_DELAY_MS]
import { spawn } from 'node:child_process'
import type { IncomingHttpHeaders } from 'node:http'
import { readdirSync, readFileSync, rmSync } from 'node:fs'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { TRACE_ID_HEADER } from '../../src/gateway/exchange.js'
import { runMany, writeBenchRegistry } from './workload.js'

const [mode = 'off', runsText = '1000', concurrencyText = '16', warmupText = '1000', delayText = '0', batchDelay = ''] =
  process.argv.slice(2)
const RUNS = Number(runsText)
const CONCURRENCY = Number(concurrencyText)
const WARMUP = Number(warmupText)
if (mode !== 'off' && mode !== 'on') throw new Error(`mode must be off or on, got '${mode}'`)
if (!readdirSync('/proc').length) throw new Error('measure-dev reads process CPU from /proc (Linux only)')

const batchEnv: Record<string, string> = batchDelay ? { OTEL_BSP_SCHEDULE_DELAY: batchDelay } : {}
const file = writeBenchRegistry(CONCURRENCY, Number(delayText), batchEnv)

const devProgram = fileURLToPath(new URL('../../src/cli/dev.ts', import.meta.url))
const dev = spawn(process.execPath, ['--import', 'tsx', devProgram, '--config', file, '--port', '0', '--status-interval', '600000'], {
  env: { ...process.env, ...batchEnv, ...(mode === 'off' ? { OTEL_SDK_DISABLED: 'true' } : {}), SWITCHYARD_TOKENS: '' },
  stdio: ['ignore', 'pipe', 'inherit'],
})
const url = await new Promise<string>((resolve, reject) => {
  let out = ''
  dev.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString()
    const found = /gateway (http:\/\/\S+)/.exec(out)
    if (found?.[1]) resolve(found[1])
  })
  dev.once('exit', (code) => reject(new Error(`switchyard dev exited (${code}) before it listened:\n${out}`)))
})
dev.stdout.resume()

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
for (let ready = false; !ready; await sleep(100)) ready = (await fetch(`${url}/readyz`)).status === 200

/** user + system CPU milliseconds of `pid` (the gateway) and of its descendants (the worker), from /proc. */
function cpuMs(pid: number): { gateway: number; workers: number } {
  const tick = 10 // ms: /proc counts CPU in clock ticks of 1/100 s (USER_HZ) on Linux
  const stats = new Map<number, { ppid: number; cpu: number }>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      stats.set(Number(entry), { ppid: Number(fields[1]), cpu: (Number(fields[11]) + Number(fields[12])) * tick })
    } catch {
      // gone meanwhile
    }
  }
  let workers = 0
  const walk = (id: number) => {
    for (const [child, s] of stats) {
      if (s.ppid !== id) continue
      workers += s.cpu
      walk(child)
    }
  }
  walk(pid)
  return { gateway: stats.get(pid)?.cpu ?? 0, workers }
}

const traceIds: string[] = []
const traced = (headers: IncomingHttpHeaders) => traceIds.push(String(headers[TRACE_ID_HEADER] ?? ''))

const spansOf = async (traceId: string) => {
  const response = await fetch(`${url}/v1/traces/${traceId}`)
  if (response.status !== 200) return 0
  const body = (await response.json()) as { spans?: unknown[] }
  return body.spans?.length ?? 0
}
/** Wait until the last runs' traces have `expected` spans (the processes export in batches, every batch delay). */
async function settled(expected: number): Promise<void> {
  if (mode === 'off') return
  for (const traceId of traceIds.slice(-CONCURRENCY)) {
    const deadline = Date.now() + 20_000
    while ((await spansOf(traceId)) < expected) {
      if (Date.now() > deadline) throw new Error(`trace ${traceId} did not reach ${expected} spans within 20 s`)
      await sleep(20)
    }
  }
}

await runMany(url, WARMUP, CONCURRENCY, traced) // warm-up: graph load, JIT tiers, sockets — the steady state a long-lived process is in
// The bench workflow's trace has 7 spans: wait for the warm-up's last ones to be stored, so none lands in the count.
const expected = mode === 'on' ? 7 : 0
await settled(expected)
traceIds.length = 0
const before = cpuMs(dev.pid ?? 0)
const started = performance.now()
await runMany(url, RUNS, CONCURRENCY, traced)
const seconds = (performance.now() - started) / 1000
await settled(expected)
const after = cpuMs(dev.pid ?? 0)
const gateway = (after.gateway - before.gateway) / RUNS
const worker = (after.workers - before.workers) / RUNS

process.stdout.write(
  `${JSON.stringify({ mode, runs: RUNS, runsPerSecond: RUNS / seconds, cpuMsPerRun: gateway + worker, gateway, worker, stored: mode === 'on' ? expected : 0 })}\n`,
)
dev.kill('SIGTERM')
await new Promise((resolve) => dev.once('exit', resolve))
rmSync(dirname(file), { recursive: true, force: true })
