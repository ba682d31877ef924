// Data-plane benchmark: a no-op workflow end to end on raw BullMQ, Switchyard on
// Redis (route() → signed envelope → RedisBroker → `switchyard worker` process →
// wait) and Switchyard in memory, same worker concurrency, same closed-loop load,
// measured side by side in one run (rounds interleave the modes so machine noise
// hits them alike). Prints p50/p99 latency, runs/s and the ratios to raw BullMQ.
// The "broker only" row is Switchyard on Redis with a verify-only worker process:
// what the broker costs, apart from the pool worker runtime.
//
// Usage: node --import tsx bench/data-plane/run.ts [--runs 3000] [--concurrency 8] [--rounds 10] [--redis URL]
// Without --redis it starts a private redis-server on a free loopback port.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'

import { loadRegistry } from '../../src/control/index.js'
import { startRedis, type RedisServer } from '../../test/helpers/redis.js'
import { POOL, WORKFLOW, rawBullmq, switchyardMemory, switchyardRedis, switchyardRedisBare, type Mode } from './modes.js'

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3000' },
    concurrency: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '300' },
    redis: { type: 'string' },
  },
})
const runs = Number(values.runs)
const concurrency = Number(values.concurrency)
const rounds = Number(values.rounds)
const warmup = Number(values.warmup)

/** A registry with one pool and one no-op workflow, in a temp folder (its compiled form lands there too). */
function benchRegistry(dir: string) {
  writeFileSync(join(dir, 'noop.mjs'), 'export function graph() { return () => ({ ok: true }) }\n')
  writeFileSync(
    join(dir, 'switchyard.yaml'),
    [
      'version: 1',
      'pools:',
      `  ${POOL}: { runtime: node, concurrency: ${concurrency}, timeout: 30s, retries: 0, maxQueued: 100000 }`,
      'workflows:',
      `  ${WORKFLOW}:`,
      `    pool: ${POOL}`,
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

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-bench-'))
  let redis: RedisServer | undefined
  const url = values.redis ?? (redis = await startRedis()).url
  const modes: Mode[] = []
  try {
    const registry = benchRegistry(dir)
    modes.push(
      await rawBullmq(url, concurrency),
      await switchyardRedis(url, registry),
      await switchyardRedisBare(url, registry, concurrency),
      await switchyardMemory(registry, concurrency),
    )
    for (const mode of modes) await load(mode, warmup)

    const results = new Map(modes.map((m) => [m.name, { latencies: [] as number[], elapsedMs: 0 }]))
    const perRound = Math.ceil(runs / rounds)
    for (let round = 0; round < rounds; round++) {
      for (const mode of modes) {
        const { latencies, elapsedMs } = await load(mode, perRound)
        const total = results.get(mode.name)!
        total.latencies.push(...latencies)
        total.elapsedMs += elapsedMs
      }
    }

    const rows = modes.map((mode) => {
      const { latencies, elapsedMs } = results.get(mode.name)!
      const sorted = latencies.slice().sort((a, b) => a - b)
      const mean = latencies.reduce((sum, x) => sum + x, 0) / latencies.length
      return {
        name: mode.name,
        p50: percentile(sorted, 50),
        p99: percentile(sorted, 99),
        mean,
        max: sorted[sorted.length - 1] ?? NaN,
        rps: (latencies.length / elapsedMs) * 1000,
      }
    })
    const raw = rows[0]!
    console.log(
      `data plane, no-op workflow: ${perRound * rounds} runs per mode in ${rounds} interleaved rounds, concurrency ${concurrency}, node ${process.version}`,
    )
    console.log('mode                 p50 ms   p99 ms  mean ms   max ms    runs/s   p50 ×raw  p99 ×raw  runs/s ×raw')
    for (const r of rows) {
      console.log(
        `${r.name.padEnd(18)} ${r.p50.toFixed(3).padStart(8)} ${r.p99.toFixed(3).padStart(8)} ${r.mean.toFixed(3).padStart(8)} ${r.max.toFixed(1).padStart(8)} ${r.rps.toFixed(0).padStart(9)}` +
          `   ${(r.p50 / raw.p50).toFixed(2).padStart(7)}  ${(r.p99 / raw.p99).toFixed(2).padStart(8)}  ${(r.rps / raw.rps).toFixed(2).padStart(11)}`,
      )
    }
    const sy = rows[1]!
    const mem = rows[3]!
    console.log(
      `targets: redis p50 ≤1.5× raw: ${sy.p50 / raw.p50 <= 1.5 ? 'met' : 'MISSED'} · redis runs/s ≥0.7× raw: ${sy.rps / raw.rps >= 0.7 ? 'met' : 'MISSED'} · memory p50 <1 ms: ${mem.p50 < 1 ? 'met' : 'MISSED'}`,
    )
  } finally {
    for (const mode of modes) await mode.close()
    await redis?.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}

await main()
