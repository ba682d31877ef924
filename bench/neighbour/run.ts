// Neighbour latency under a faulty pool: the chaos rig (test/chaos/rig.ts: switchyard
// start on Redis, a neighbour pool under steady synchronous traffic, a faulty pool),
// each pool fault in turn, the neighbour's p50/p99 just before the fault and during it,
// side by side in one run. The goal (issue 13): p99 during ≤ 1.2 × the baseline's.
// Each window lasts at least 12 s (suite.ts BENCH: a fault whose runs end at once sends
// them again until then), so each p99 is of ≥ 200 requests (one every 50 ms); the
// counts are printed beside each figure. With each figure: the gateway's and Redis's CPU,
// how long the main threads of the gateway, Redis and the neighbour's worker waited on a
// run queue (ms per s): where a neighbour request's extra milliseconds were spent, and the
// gateway's longest event-loop stall in the window (ms, its /metrics'
// nodejs_eventloop_lag_max_seconds, reset by a scrape at the window's start; about 11 on an
// idle loop, its monitor's 10 ms tick included): how long one burst held the one loop.
// With --before DIR (another checkout, built: its bin/switchyard.js), each fault runs on
// that build's rig and then on this one's, alternately in the same run: before/after
// measured under the same load. --cpu N gives this build's faulty pool a `cpu: N` cap
// (cores; `switchyard start` applies it as a cgroup CPU quota), the before build's none.
// Usage: npm run build && node --import tsx bench/neighbour/run.ts [--only spin,heap] [--before DIR] [--cpu N]
import { join, resolve } from 'node:path'

import { startRig, type Rig } from '../../test/chaos/rig.js'
import { BENCH, runSuite, type Row, type Scale, type WindowMeter } from '../../test/chaos/suite.js'

const POOL_FAULTS = ['throw', 'hang', 'spin', 'heap', 'exit', 'schema', 'big', 'flood']
const arg = (name: string) => {
  const at = process.argv.indexOf(name)
  return at >= 0 ? process.argv[at + 1] : undefined
}
const only = arg('--only')?.split(',') ?? POOL_FAULTS
const beforeDir = arg('--before')
const cpu = arg('--cpu')

const pad = (text: string, n: number) => text.padEnd(n)
const ms = (value: number) => `${Math.round(value)}`.padStart(5)
const num = (value: number | null, width = 3) => (value === null ? '–'.padStart(width) : `${value}`.padStart(width))
const meter = (m: WindowMeter) =>
  `${num(m.cpu.gateway)} ${num(m.cpu.redis)} | ${num(m.runQueue.gateway)} ${num(m.runQueue.redis)} ${num(m.runQueue.neighbour)} | ` +
  `${num(m.loopMaxMs, 4)} | ${m.load.toFixed(1).padStart(4)}`

function line(label: string, row: Row): string {
  const ratio = row.withFault.p99 / row.baseline.p99
  return (
    `${pad(label, 42)}  ${ms(row.baseline.p50)} ${ms(row.baseline.p99)} ${`${row.baseline.n}`.padStart(4)} |` +
    `  ${ms(row.withFault.p50)} ${ms(row.withFault.p99)} ${`${row.withFault.n}`.padStart(4)} |` +
    `  ×${ratio.toFixed(2)} ${ratio <= 1.2 ? 'ok ' : 'OVER'} | ${meter(row.meter.baseline)} → ${meter(row.meter.withFault)}`
  )
}

const rigs: Array<{ label: string; rig: Rig }> = []
try {
  if (beforeDir) rigs.push({ label: 'before', rig: await startRig({ bin: join(resolve(beforeDir), 'bin', 'switchyard.js') }) })
  const capped = cpu === undefined ? {} : { faultyCpu: Number(cpu) }
  rigs.push({
    label: `${beforeDir ? 'after' : ''}${cpu === undefined ? '' : `${beforeDir ? ', ' : ''}cpu: ${cpu}`}`,
    rig: await startRig(capped),
  })
  const out: string[] = []
  for (const id of only) {
    for (const { label, rig } of rigs) {
      const scale: Scale = { ...BENCH, only: [id] }
      for (const row of (await runSuite(rig, scale)).filter((r) => r.keyed)) {
        const text = line(label ? `${row.fault} [${label}]` : row.fault, row)
        console.error(text)
        out.push(text)
      }
    }
  }
  console.log(
    `${pad('fault', 42)}  base p50   p99    n |  with p50   p99    n |  p99 ratio  | ` +
      `gateway, Redis CPU % of a core | run-queue wait ms/s: gateway, Redis, neighbour worker | ` +
      `gateway's longest loop stall ms | load: base → with`,
  )
  for (const text of out) console.log(text)
} finally {
  for (const { rig } of rigs) await rig.close()
}
