// One build's side of bench/data-plane/run.ts, in a child process: it loads the
// modes of the checkout at ROOT (its bench/data-plane/modes.ts and its own src/), on
// its own Redis, and runs closed-loop load on request over IPC. A process per build
// is what lets one run compare this checkout with another one's build (--before DIR)
// in the same interleaved rounds: each build's modules, with the same harness.
//
// usage (run.ts does this): node --import tsx bench/data-plane/host.ts ROOT REDIS_URL CONCURRENCY
// messages in: { mode: index, count } → out: { latencies, elapsedMs } · { close: true } → exits
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

interface Mode {
  readonly name: string
  run(): Promise<void>
  close(): Promise<void>
}
interface Modes {
  POOL: string
  WORKFLOW: string
  rawBullmq(url: string, concurrency: number): Promise<Mode>
  switchyardRedis(url: string, registry: unknown): Promise<Mode>
  switchyardRedisBare(url: string, registry: unknown, concurrency: number): Promise<Mode>
  switchyardMemory(registry: unknown, concurrency: number): Promise<Mode>
}
export type Request = { mode: number; count: number } | { close: true }
export type Reply = { names: string[] } | { latencies: number[]; elapsedMs: number } | { error: string }

const [rootArg, url, concurrencyText] = process.argv.slice(2)
if (!rootArg || !url || !concurrencyText || !process.send)
  throw new Error('usage: host.ts ROOT REDIS_URL CONCURRENCY (with an IPC channel)')
const root = resolve(rootArg)
const concurrency = Number(concurrencyText)
const send = (reply: Reply) => process.send?.(reply)

const modes = (await import(pathToFileURL(join(root, 'bench/data-plane/modes.ts')).href)) as Modes
const { loadRegistry } = (await import(pathToFileURL(join(root, 'src/control/index.ts')).href)) as { loadRegistry(file: string): unknown }

/** A registry with one pool and one no-op workflow, in a temp folder (its compiled form lands there too). */
function benchRegistry(dir: string) {
  // run.ts's --model-delay: the graph waits as a model call would.
  const delayMs = Number(process.env.SWITCHYARD_BENCH_MODEL_DELAY_MS ?? 0)
  writeFileSync(
    join(dir, 'noop.mjs'),
    delayMs > 0
      ? `export function graph() { return async () => { await new Promise((r) => setTimeout(r, ${delayMs})); return { ok: true } } }\n`
      : 'export function graph() { return () => ({ ok: true }) }\n',
  )
  writeFileSync(
    join(dir, 'switchyard.yaml'),
    [
      'version: 1',
      'pools:',
      `  ${modes.POOL}: { runtime: node, concurrency: ${concurrency}, timeout: 30s, retries: 0, maxQueued: 100000 }`,
      'workflows:',
      `  ${modes.WORKFLOW}:`,
      `    pool: ${modes.POOL}`,
      '    graph: noop.mjs#graph',
      '    input: { type: object }',
      '    description: does nothing, as fast as it can',
      '',
    ].join('\n'),
  )
  return loadRegistry(join(dir, 'switchyard.yaml'))
}

/** `count` runs with `concurrency` clients in a closed loop; per-run latencies in ms and the wall time. */
async function load(mode: Mode, count: number): Promise<{ latencies: number[]; elapsedMs: number }> {
  const latencies: number[] = []
  let next = 0
  const started = performance.now()
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        next += 1
        const t0 = performance.now()
        await mode.run()
        latencies.push(performance.now() - t0)
      }
    }),
  )
  return { latencies, elapsedMs: performance.now() - started }
}

const dir = mkdtempSync(join(tmpdir(), 'switchyard-bench-'))
const registry = await benchRegistry(dir)
const open: Mode[] = [
  await modes.rawBullmq(url, concurrency),
  await modes.switchyardRedis(url, registry),
  await modes.switchyardRedisBare(url, registry, concurrency),
  await modes.switchyardMemory(registry, concurrency),
]
send({ names: open.map((m) => m.name.trim()) })

process.on('message', (request: Request) => {
  void (async () => {
    if ('close' in request) {
      for (const mode of open) await mode.close()
      rmSync(dir, { recursive: true, force: true })
      process.disconnect()
      return
    }
    const mode = open[request.mode]
    if (!mode) throw new Error(`no mode ${request.mode}`)
    send(await load(mode, request.count))
  })().catch((error: unknown) => send({ error: error instanceof Error ? (error.stack ?? error.message) : String(error) }))
})
