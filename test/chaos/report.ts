// The chaos suite's table, as RELIABILITY.md quotes it: one row per fault and kind of
// client, and the neighbour's latency beside its own baseline of the same run.
import { restartedText, type Row } from './suite.js'

const ms = (value: number) => (Number.isFinite(value) ? `${Math.round(value)}` : '–')

export function renderTable(rows: readonly Row[]): string {
  const header =
    "| fault | Idempotency-Key | accepted | succeeded | failed, by code | lost | executed twice | not accepted | neighbour p50 / p99 without → with (ms) | neighbour failures | faulty pool serves a new run, after the fault's runs ended | runs a kill -9 interrupted, started again after |"
  const rule = '|---|---|---:|---:|---|---:|---:|---:|---|---:|---:|---:|'
  const lines = rows.map((row) => {
    const failed =
      Object.entries(row.failed)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([code, n]) => `${code} ${n}`)
        .join(', ') || '0'
    // How many requests each figure is of: a p99 of 20 is their maximum.
    const ratio =
      row.baseline.p99 > 0 ? ` (p99 ×${(row.withFault.p99 / row.baseline.p99).toFixed(2)}; n ${row.baseline.n} → ${row.withFault.n})` : ''
    return (
      `| ${row.fault} | ${row.keyed ? 'yes' : 'no'} | ${row.accepted}/${row.submitted} | ${row.succeeded} | ${failed} | ${row.lost} | ${row.executedTwice} | ${row.notAccepted} | ` +
      `${ms(row.baseline.p50)} / ${ms(row.baseline.p99)} → ${ms(row.withFault.p50)} / ${ms(row.withFault.p99)}${ratio} | ${row.withFault.failures} | ` +
      `${row.recoveredMs === null ? 'never' : `${(row.recoveredMs / 1000).toFixed(1)} s`} | ${restartedText(row)} |`
    )
  })
  return [header, rule, ...lines].join('\n')
}
