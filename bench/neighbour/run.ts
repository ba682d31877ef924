// Neighbour latency under a faulty pool: the chaos rig (test/chaos/rig.ts: switchyard
// start on Redis, a neighbour pool under steady synchronous traffic, a faulty pool),
// each pool fault in turn, the neighbour's p50/p99 just before the fault and during it,
// side by side in one run. The goal (issue 13): p99 during ≤ 1.2 × the baseline's.
// With --before DIR (another checkout, built: its bin/switchyard.js), each fault runs on
// that build's rig and then on this one's, alternately in the same run: before/after
// measured under the same load.
// Usage: npm run build && node --import tsx bench/neighbour/run.ts [--only spin,heap] [--before DIR]
import { join, resolve } from 'node:path'

import { startRig, type Rig } from '../../test/chaos/rig.js'
import { FULL, runSuite, type Row, type Scale } from '../../test/chaos/suite.js'

const POOL_FAULTS = ['throw', 'hang', 'spin', 'heap', 'exit', 'schema', 'big', 'flood']
const arg = (name: string) => {
  const at = process.argv.indexOf(name)
  return at >= 0 ? process.argv[at + 1] : undefined
}
const only = arg('--only')?.split(',') ?? POOL_FAULTS
const beforeDir = arg('--before')

const pad = (text: string, n: number) => text.padEnd(n)
const ms = (value: number) => `${Math.round(value)}`.padStart(5)
const pct = (value: number | null) => (value === null ? '  –' : `${value}`.padStart(3))

function line(label: string, row: Row): string {
  const ratio = row.withFault.p99 / row.baseline.p99
  return (
    `${pad(label, 42)}  ${ms(row.baseline.p50)} ${ms(row.baseline.p99)} |  ${ms(row.withFault.p50)} ${ms(row.withFault.p99)} |` +
    `  ×${ratio.toFixed(2)} ${ratio <= 1.2 ? 'ok ' : 'OVER'} (${row.baseline.n}/${row.withFault.n}) | ` +
    `${pct(row.cpu.baseline.gateway)} ${pct(row.cpu.baseline.redis)} → ${pct(row.cpu.withFault.gateway)} ${pct(row.cpu.withFault.redis)}`
  )
}

const rigs: Array<{ label: string; rig: Rig }> = []
try {
  if (beforeDir) rigs.push({ label: 'before', rig: await startRig({ bin: join(resolve(beforeDir), 'bin', 'switchyard.js') }) })
  rigs.push({ label: beforeDir ? 'after' : '', rig: await startRig() })
  const out: string[] = []
  for (const id of only) {
    for (const { label, rig } of rigs) {
      const scale: Scale = { ...FULL, name: 'full', only: [id] }
      for (const row of (await runSuite(rig, scale)).filter((r) => r.keyed)) {
        const text = line(label ? `${row.fault} [${label}]` : row.fault, row)
        console.error(text)
        out.push(text)
      }
    }
  }
  console.log(
    `${pad('fault', 42)}  base p50   p99 |  with p50   p99 |  p99 ratio       (n base/with) | gateway, Redis CPU % of a core: base → with`,
  )
  for (const text of out) console.log(text)
} finally {
  for (const { rig } of rigs) await rig.close()
}
