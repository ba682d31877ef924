// Neighbour latency under a faulty pool: the chaos rig (test/chaos/rig.ts: switchyard
// start on Redis, a neighbour pool under steady synchronous traffic, a faulty pool),
// each pool fault in turn, the neighbour's p50/p99 just before the fault and during it,
// side by side in one run. The goal (issue 13): p99 during ≤ 1.2 × the baseline's.
// Usage: npm run build && node --import tsx bench/neighbour/run.ts [--only spin,heap]
import { startRig } from '../../test/chaos/rig.js'
import { FULL, runSuite, type Scale } from '../../test/chaos/suite.js'

const POOL_FAULTS = ['throw', 'hang', 'spin', 'heap', 'exit', 'schema', 'big', 'flood']
const onlyAt = process.argv.indexOf('--only')
const scale: Scale = {
  ...FULL,
  name: 'full',
  only: onlyAt >= 0 ? (process.argv[onlyAt + 1] ?? '').split(',') : POOL_FAULTS,
}

const rig = await startRig()
try {
  const rows = (await runSuite(rig, scale)).filter((row) => row.keyed)
  const pad = (text: string, n: number) => text.padEnd(n)
  const ms = (value: number) => `${Math.round(value)}`.padStart(5)
  const pct = (value: number | null) => (value === null ? '  –' : `${value}`.padStart(3))
  console.log(
    `${pad('fault', 34)}  base p50   p99 |  with p50   p99 |  p99 ratio       (n base/with) | gateway, Redis CPU % of a core: base → with`,
  )
  for (const row of rows) {
    const ratio = row.withFault.p99 / row.baseline.p99
    console.log(
      `${pad(row.fault, 34)}  ${ms(row.baseline.p50)} ${ms(row.baseline.p99)} |  ${ms(row.withFault.p50)} ${ms(row.withFault.p99)} |` +
        `  ×${ratio.toFixed(2)} ${ratio <= 1.2 ? 'ok ' : 'OVER'} (${row.baseline.n}/${row.withFault.n}) | ` +
        `${pct(row.cpu.baseline.gateway)} ${pct(row.cpu.baseline.redis)} → ${pct(row.cpu.withFault.gateway)} ${pct(row.cpu.withFault.redis)}`,
    )
  }
} finally {
  await rig.close()
}
