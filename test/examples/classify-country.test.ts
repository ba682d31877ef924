import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { graph } from '../../examples/sales/workflows/classify-country/graph.js'
import type { Classification } from '../../examples/sales/workflows/classify-country/types.js'
import { createModel } from '../../src/graph/index.js'
import type { RunContext } from '../../src/graph/index.js'
import { startChatServer } from '../graph/chat-server.js'
import { outputProblems, readJson, runFor, setupOf, workflowFile } from './workflow-kit.js'

const FOLDER = 'classify-country'
type Classify = (input: unknown, run: RunContext) => Promise<Classification>

async function classifier(model = createModel('offline')) {
  const run = runFor('classify.country', 'classify', FOLDER, model)
  const classify = (await graph(setupOf(run))) as Classify
  return (lead: unknown) => classify(lead, run)
}

void describe('classify.country', () => {
  void it('classifies the example from agreeing signals alone, without the model', async () => {
    const classify = await classifier()
    const out = await classify(readJson(FOLDER, 'example.json'))
    assert.deepEqual(await outputProblems(FOLDER, out), [])
    assert.deepEqual(out, {
      country: 'AT',
      confidence: 0.94,
      method: 'signals',
      evidence: ['address-city wien → AT (0.6)', 'phone +43 → AT (0.85)'],
    })
  })

  void it('asks the model when signals disagree, offering the candidates best first', async () => {
    const classify = await classifier()
    const out = await classify({ company: 'Lamar Feed', address: '12 Lamar Ave, Paris, TX 75460' })
    assert.equal(out.country, 'US')
    assert.equal(out.method, 'model')
    assert.equal(out.model, 'offline')
    assert.match(out.evidence.at(-1) ?? '', /^model: \[offline\] US has the strongest signals/)
  })

  void it('answers null, method none, when nothing points anywhere', async () => {
    const classify = await classifier()
    const out = await classify({ company: 'Acme', email: 'jane@gmail.com' })
    assert.deepEqual(
      { country: out.country, method: out.method, confidence: out.confidence },
      { country: null, method: 'none', confidence: 0 },
    )
  })

  void it('uses a real provider’s answer when it breaks a tie (local chat-completions server)', async () => {
    const server = await startChatServer([{ content: '{"country":"DE","confidence":0.7,"reason":"German legal form and .de domain"}' }])
    try {
      const classify = await classifier(createModel(`openai-compatible:${server.baseURL}#local`, { env: {} }))
      const out = await classify({ company: 'Rhein GmbH', website: 'rhein.de', phone: '+44 20 7946 0958' })
      assert.deepEqual([out.country, out.method, out.confidence, out.model], ['DE', 'model', 0.7, 'openai-compatible:local'])
      const format = server.requests[0]?.response_format as { json_schema: { schema: { properties: { country: unknown } } } }
      assert.deepEqual(format.json_schema.schema.properties.country, { enum: ['GB', 'DE', null] })
    } finally {
      await server.close()
    }
  })

  void it('keeps at least 95% accuracy on the shipped labelled set (offline model)', async () => {
    const rows = readFileSync(workflowFile(FOLDER, 'labelled.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { lead: unknown; country: string | null })
    assert.ok(rows.length >= 200, `${rows.length} labelled leads`)
    const classify = await classifier()
    let right = 0
    for (const row of rows) if ((await classify(row.lead)).country === row.country) right++
    assert.ok(right / rows.length >= 0.95, `accuracy ${right}/${rows.length}`)
  })
})
