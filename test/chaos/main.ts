// `npm run chaos`: the chaos suite (chaos/suite.ts) on a fresh rig, its table printed,
// and with --write, RELIABILITY.md's table replaced by this run's.
// Usage: node --import tsx test/chaos/main.ts [--short] [--only a,b] [--why] [--log FILE] [--before DIR | --write]
// --before DIR runs each scenario on that checkout's build (built) and then on this one, on fresh rigs in turn;
// the problems and --why lines are this build's.
// --why prints each run that did not succeed or started more than once: its code, message and the graph's starts (attempt, ms, pid).
import { readFileSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

import { renderTable } from './report.js'
import { startRig } from './rig.js'
import { FULL, SCENARIO_IDS, SHORT, endingProblems, runSuite, type Row, type Scale } from './suite.js'

const args = process.argv.slice(2)
const onlyAt = args.indexOf('--only')
const base: Scale = args.includes('--short') ? SHORT : FULL
const scale: Scale = onlyAt >= 0 ? { ...base, only: (args[onlyAt + 1] ?? '').split(',') } : base

const started = Date.now()
const logAt = args.indexOf('--log')
const beforeAt = args.indexOf('--before')
if (beforeAt >= 0 && args.includes('--write')) throw new Error('--before measures two builds; --write takes one')

/** The suite on one build's rig (`bin`: another checkout's bin/switchyard.js), scenario by scenario from `ids`. */
async function onRig(ids: readonly string[], label: string, bin?: string): Promise<Row[]> {
  const rig = await startRig(bin === undefined ? {} : { bin })
  try {
    const rows: Row[] = []
    for (const id of ids) rows.push(...(await runSuite(rig, { ...scale, only: [id] }, (line) => console.log(`${label}${line}`))))
    return rows
  } catch (error) {
    console.error(rig.log().slice(-6000))
    throw error
  } finally {
    // --log FILE keeps what the rig's processes printed, time-stamped (worker exits, restarts, watchdog kills).
    if (logAt >= 0) writeFileSync(`${args[logAt + 1] ?? 'chaos.log'}${label ? `.${label.trim().slice(1, -1)}` : ''}`, rig.log())
    await rig.close()
  }
}

const ids = scale.only ?? SCENARIO_IDS
let rows: Row[]
if (beforeAt >= 0) {
  // --before DIR: each scenario on that checkout's build (built: its bin/switchyard.js), then on this one, alternately.
  const bin = join(resolve(args[beforeAt + 1] ?? '.'), 'bin', 'switchyard.js')
  rows = []
  for (const id of ids) {
    await onRig([id], '[before] ', bin)
    rows.push(...(await onRig([id], '[after] ')))
  }
} else {
  rows = await onRig(ids, '')
}
if (args.includes('--why')) {
  // Each run that failed or started again: its code and message, and where the graph started (ms after the submissions began, worker pid).
  for (const row of rows) {
    for (const run of row.runs) {
      if (run.status === 'succeeded' && run.starts.length <= 1) continue
      const starts = run.starts.map((s) => `#${s.attempt}@${s.at}ms/pid ${s.pid}`).join(' ') || 'never started'
      console.log(`${row.scenario} ${run.runId}: ${run.code ?? run.status} [${starts}] ${run.message ?? ''}`)
    }
  }
}
// How each scenario's runs must end (suite.ts Ending): a run that broke it fails `npm run chaos`.
const problems = rows.flatMap(endingProblems)
for (const problem of problems) console.error(`NOT AS IT MUST END: ${problem}`)
if (problems.length > 0) process.exitCode = 1
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
