// `npm run chaos`: the chaos suite (chaos/suite.ts) on a fresh rig, its table printed,
// and with --write, RELIABILITY.md's table replaced by this run's.
// Usage: node --import tsx test/chaos/main.ts [--short] [--only a,b] [--write]
import { readFileSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { fileURLToPath } from 'node:url'

import { renderTable } from './report.js'
import { startRig } from './rig.js'
import { FULL, SHORT, runSuite, type Scale } from './suite.js'

const args = process.argv.slice(2)
const onlyAt = args.indexOf('--only')
const base: Scale = args.includes('--short') ? SHORT : FULL
const scale: Scale = onlyAt >= 0 ? { ...base, only: (args[onlyAt + 1] ?? '').split(',') } : base

const started = Date.now()
const rig = await startRig()
let rows
try {
  rows = await runSuite(rig, scale, (line) => console.log(line))
} catch (error) {
  console.error(rig.log().slice(-6000))
  throw error
} finally {
  await rig.close()
}
const table = renderTable(rows)
const when = new Date().toISOString().slice(0, 16).replace('T', ' ')
const note = `Measured ${when} UTC, ${scale.name} suite, ${cpus().length} cores, ${Math.round((Date.now() - started) / 1000)} s.`
console.log(`\n${table}\n\n${note}`)

if (args.includes('--write')) {
  const path = fileURLToPath(new URL('../../RELIABILITY.md', import.meta.url))
  const text = readFileSync(path, 'utf8')
  const begin = '<!-- chaos-table:begin -->'
  const end = '<!-- chaos-table:end -->'
  const from = text.indexOf(begin)
  const to = text.indexOf(end)
  if (from < 0 || to < from) throw new Error(`RELIABILITY.md has no ${begin} … ${end} section`)
  writeFileSync(path, `${text.slice(0, from + begin.length)}\n${table}\n\n${note}\n${text.slice(to)}`)
  console.log('RELIABILITY.md: table updated')
}
