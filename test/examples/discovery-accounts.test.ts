import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { graph, graphWith } from '../../examples/sales/workflows/discovery-accounts/graph.js'
import { dedupe, score } from '../../examples/sales/workflows/discovery-accounts/ranking.js'
import type { CompanyRecord, SearchTool } from '../../examples/sales/workflows/discovery-accounts/types.js'
import { OFFLINE_LABEL, runGraph } from '../../src/graph/index.js'
import { outputProblems, readJson, runFor, setupOf } from './workflow-kit.js'

const FOLDER = 'discovery-accounts'
const example = readJson<{ exclude: string[] }>(FOLDER, 'example.json')

void describe('discovery.accounts', () => {
  void it('ships at least 500 distinct company records', () => {
    const records = readJson<CompanyRecord[]>(FOLDER, 'companies.json')
    assert.ok(new Set(records.map((r) => r.domain.replace(/^www\./, ''))).size >= 500)
  })

  void it('returns ranked, deduplicated accounts with reasons for the example ICP (offline model)', async () => {
    const run = runFor('discovery.accounts', 'discovery', FOLDER)
    const out = await runGraph(await graph(setupOf(run)), example, run)
    assert.deepEqual(await outputProblems(FOLDER, out), [])
    assert.equal(out.accounts.length, 10)
    assert.deepEqual(
      out.accounts.map((a) => a.rank),
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    )
    const scores = out.accounts.map((a) => a.score)
    assert.deepEqual(
      scores,
      [...scores].sort((a, b) => b - a),
    )
    assert.equal(new Set(out.accounts.map((a) => a.domain)).size, 10)
    assert.ok(out.accounts.every((a) => a.reasons.length > 0 && !example.exclude.includes(a.domain)))
    assert.ok(out.accounts.every((a) => ['SE', 'NO', 'DK', 'DE'].includes(a.country)))
    assert.deepEqual(out.query.industries, ['logistics'])
    assert.deepEqual(out.query.employees, { min: 50, max: 500 })
    assert.ok(out.summary.startsWith(`${OFFLINE_LABEL} Top picks: ${out.accounts[0]?.name}`), out.summary)
    assert.equal(out.tool, 'dataset')
    assert.equal(out.model, 'offline')
  })

  void it('searches through any SearchTool', async () => {
    const record = (id: string, name: string, domain: string, employees: number): CompanyRecord => ({
      id,
      name,
      domain,
      country: 'SE',
      city: 'Stockholm',
      industry: 'logistics',
      employees,
      founded: 2015,
      description: `${name} moves freight; hiring SDRs`,
      signals: ['hiring SDRs'],
    })
    const queries: unknown[] = []
    const tool: SearchTool = {
      name: 'crm',
      async search(query) {
        queries.push(query)
        return [
          record('a', 'Alpha Freight AB', 'alpha.se', 120),
          record('b', 'ALPHA FREIGHT', 'www.alpha.se', 118),
          record('c', 'Beta Cargo AB', 'beta.se', 40),
        ]
      },
    }
    const run = runFor('discovery.accounts', 'discovery', FOLDER)
    const out = await runGraph(
      await graphWith(setupOf(run), tool),
      { icp: { description: 'logistics companies in Sweden with 50-500 employees hiring SDRs' } },
      run,
    )
    assert.equal(out.tool, 'crm')
    assert.equal(queries.length, 1)
    assert.deepEqual(
      out.accounts.map((a) => [a.name, a.domain]),
      [
        ['Alpha Freight AB', 'alpha.se'],
        ['Beta Cargo AB', 'beta.se'],
      ],
    )
    assert.equal(out.duplicatesRemoved, 1)
  })

  void it('dedupes by domain and by name, keeping the best score', () => {
    const query = { industries: ['fintech'], countries: [], keywords: [], employees: { min: 1, max: 1000 } }
    const base = { country: 'DE', city: 'Berlin', industry: 'fintech', founded: 2020, description: '', signals: [] }
    const a = score({ ...base, id: '1', name: 'Pay GmbH', domain: 'pay.de', employees: 5000 }, query)
    const b = score({ ...base, id: '2', name: 'PAY', domain: 'www.pay.de', employees: 100 }, query)
    const c = score({ ...base, id: '3', name: 'Pay', domain: 'pay-berlin.com', employees: 100 }, query)
    const { kept, removed } = dedupe([a, b, c])
    assert.deepEqual(
      kept.map((k) => k.record.id),
      ['2'],
    )
    assert.equal(removed, 2)
  })
})
