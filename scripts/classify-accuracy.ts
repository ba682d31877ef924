// Accuracy of classify.country on its labelled set.
// Usage: npm run build && npx tsx scripts/classify-accuracy.ts [--holdout] [--misses]
// --holdout scores holdout.jsonl: 30 hand-written leads the signal rules were never tuned on.
// The model is SWITCHYARD_MODEL (offline by default), as in the classify pool.
import { readFileSync } from 'node:fs'
import { graph } from '../examples/sales/workflows/classify-country/graph.js'
import { createModel, createRunContext, loadPrompt, setupOf } from '../src/graph/index.js'

interface Row {
  readonly id: string
  readonly lead: Record<string, string>
  readonly country: string | null
  readonly tags: readonly string[]
}

const folder = new URL('../examples/sales/workflows/classify-country/', import.meta.url)
const set = process.argv.includes('--holdout') ? 'holdout.jsonl' : 'labelled.jsonl'
const rows = readFileSync(new URL(set, folder), 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((line) => JSON.parse(line) as Row)
const model = createModel(process.env.SWITCHYARD_MODEL)
const prompt = loadPrompt(decodeURIComponent(new URL('prompt.md', folder).pathname))
const base = createRunContext({ workflow: 'classify.country', pool: 'classify', model, prompt })
const classify = (await graph(setupOf(base))) as (
  input: unknown,
  run: typeof base,
) => Promise<{ country: string | null; method: string; confidence: number }>

const tally = new Map<string, { right: number; total: number }>()
const count = (key: string, right: boolean) => {
  const entry = tally.get(key) ?? { right: 0, total: 0 }
  tally.set(key, { right: entry.right + (right ? 1 : 0), total: entry.total + 1 })
}
const misses: string[] = []
const started = performance.now()
for (const row of rows) {
  const out = await classify(row.lead, createRunContext({ workflow: 'classify.country', pool: 'classify', model, prompt }))
  const right = out.country === row.country
  count('all', right)
  count(`method:${out.method}`, right)
  for (const tag of row.tags) count(`tag:${tag}`, right)
  if (!right)
    misses.push(
      `${row.id}: expected ${row.country ?? 'null'}, got ${out.country ?? 'null'} (${out.method}, ${out.confidence}) ${JSON.stringify(row.lead)}`,
    )
}
const elapsed = performance.now() - started

const pct = ({ right, total }: { right: number; total: number }) => `${((100 * right) / total).toFixed(1)}% (${right}/${total})`
const lines = [
  `classify.country accuracy on ${rows.length} leads of ${set}, model ${model.id}: ${pct(tally.get('all') ?? { right: 0, total: 1 })}`,
]
for (const [key, value] of [...tally.entries()].filter(([k]) => k !== 'all').sort()) lines.push(`  ${key.padEnd(32)} ${pct(value)}`)
lines.push(`  ${(elapsed / rows.length).toFixed(2)} ms per lead`)
if (process.argv.includes('--misses')) lines.push('', 'misses:', ...misses.map((m) => `  ${m}`))
process.stdout.write(`${lines.join('\n')}\n`)
