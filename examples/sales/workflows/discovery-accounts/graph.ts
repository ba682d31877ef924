// discovery.accounts: expand the ICP → search (a pluggable SearchTool) → score → dedupe → explain.
// Module level imports nothing but switchyard-ai/graph: LangGraph and the ranking rules load in the factory.
import { defineGraph, loadPrompt, runOf } from 'switchyard-ai/graph'
import type { GraphSetup, Prompt, RunContext } from 'switchyard-ai/graph'
import type { CompanyRecord, DiscoveryInput, DiscoveryOutput, ScoredAccount, SearchQuery, SearchTool } from './types.js'

const KNOWN_INDUSTRIES = [
  'fintech',
  'logistics',
  'healthtech',
  'ecommerce',
  'saas',
  'manufacturing',
  'cybersecurity',
  'edtech',
  'climate',
  'martech',
  'proptech',
  'insurtech',
]
const SEARCH_LIMIT = 400

/** The graph factory the pool worker calls once per process: searches the shipped dataset. */
export async function graph(setup: GraphSetup) {
  const [{ readFileSync }, { datasetSearchTool }] = await Promise.all([import('node:fs'), import('./ranking.js')])
  const records = JSON.parse(readFileSync(here('./companies.json'), 'utf8')) as CompanyRecord[]
  return graphWith(setup, datasetSearchTool(records))
}

/** The same graph over any SearchTool (a CRM, a firmographics API). */
export async function graphWith(setup: GraphSetup, tool: SearchTool) {
  const [{ StateGraph, Annotation, START, END }, rules] = await Promise.all([import('@langchain/langgraph'), import('./ranking.js')])
  const fallbackPrompt = setup.prompt ?? loadPrompt(here('./prompt.md'))
  const maxResults = Number(process.env.DISCOVERY_MAX_RESULTS ?? 25)

  const State = Annotation.Root({
    input: Annotation<DiscoveryInput>,
    query: Annotation<Omit<SearchQuery, 'limit'>>,
    found: Annotation<CompanyRecord[]>,
    scored: Annotation<ScoredAccount[]>,
    kept: Annotation<ScoredAccount[]>,
    removed: Annotation<number>,
    summary: Annotation<string>,
    model: Annotation<string>,
  })
  type S = typeof State.State

  const compiled = new StateGraph(State)
    .addNode('expand_icp', async (state: S, config) => {
      const run = runOf(config)
      const hints = rules.expandIcp(state.input.icp)
      const task = [
        'Turn the profile into a search over our data. What the profile says, read literally:',
        hints.industries.length ? `industries: ${hints.industries.join(', ')}` : '',
        hints.countries.length ? `countries: ${hints.countries.join(', ')}` : '',
        hints.keywords.length ? `keywords: ${hints.keywords.join(', ')}` : '',
        'Add what a good researcher would infer. Answer with a JSON object { "industries": [...], "countries": [...], "keywords": [...] }:',
        'known industries only, ISO 3166-1 alpha-2 country codes, short lowercase keywords.',
      ]
        .filter(Boolean)
        .join('\n')
      const schema = {
        type: 'object',
        properties: {
          industries: { type: 'array', items: { type: 'string' } },
          countries: { type: 'array', items: { type: 'string', pattern: '^[A-Z]{2}$' } },
          keywords: { type: 'array', items: { type: 'string' } },
        },
        required: ['industries', 'countries', 'keywords'],
        additionalProperties: false,
      }
      const result = await ask(run, run.prompt ?? fallbackPrompt, state.input.icp.description, task, schema, 'expand_icp')
      const answer = result.object as { industries: string[]; countries: string[]; keywords: string[] }
      const explicit = state.input.icp
      return {
        query: {
          industries: union(
            answer.industries.filter((i) => KNOWN_INDUSTRIES.includes(i)),
            explicit.industries ?? [],
          ),
          countries: union(answer.countries, explicit.countries ?? []),
          keywords: union(
            answer.keywords.map((k) => k.toLowerCase()),
            (explicit.keywords ?? []).map((k) => k.toLowerCase()),
          ),
          employees: hints.employees,
        },
        model: result.model,
      }
    })
    .addNode('search', async (state: S, config) => {
      const run = runOf(config)
      return { found: await tool.search({ ...state.query, limit: SEARCH_LIMIT }, run.signal) }
    })
    .addNode('score_accounts', (state: S) => {
      const exclude = new Set((state.input.exclude ?? []).map((d) => d.replace(/^www\./, '').toLowerCase()))
      return { scored: state.found.filter((r) => !exclude.has(r.domain.replace(/^www\./, ''))).map((r) => rules.score(r, state.query)) }
    })
    .addNode('dedupe', (state: S) => {
      const { kept, removed } = rules.dedupe(state.scored)
      return { kept: kept.slice(0, Math.min(state.input.limit ?? 10, maxResults)), removed }
    })
    .addNode('explain', async (state: S, config) => {
      const run = runOf(config)
      const lines = state.kept.map(
        (a, i) =>
          `${i + 1}. ${a.record.name} (${a.record.domain}), ${a.record.industry}, ${a.record.city} ${a.record.country}, ${a.record.employees} employees: ${a.reasons.join('; ')}`,
      )
      const top = state.kept.slice(0, 3).map((a) => a.record.name)
      const suggestion = state.kept.length
        ? `Top picks: ${top.join(', ')}. ${state.kept.length} accounts match ${state.query.industries.join('/') || 'the profile'}${state.query.countries.length ? ` in ${state.query.countries.join(', ')}` : ''}, ranked by industry, location, size and buying signals.`
        : 'No account in the data matches this profile; widen the industries, countries or size range.'
      const task = [
        'These accounts matched, best first:',
        ...(lines.length ? lines : ['(none)']),
        '',
        'Write a two-sentence summary for the rep: which accounts to start with and why.',
        `<summary>${suggestion}</summary>`,
        'Answer with a JSON object { "summary": "..." }.',
      ].join('\n')
      const schema = { type: 'object', properties: { summary: { type: 'string' } }, required: ['summary'], additionalProperties: false }
      const result = await ask(run, run.prompt ?? fallbackPrompt, state.input.icp.description, task, schema, 'explain')
      return { summary: (result.object as { summary: string }).summary }
    })
    .addEdge(START, 'expand_icp')
    .addEdge('expand_icp', 'search')
    .addEdge('search', 'score_accounts')
    .addEdge('score_accounts', 'dedupe')
    .addEdge('dedupe', 'explain')
    .addEdge('explain', END)
    .compile()

  return defineGraph({
    graph: compiled,
    input: (input: DiscoveryInput) => ({ input }),
    output: (state): DiscoveryOutput => ({
      accounts: state.kept.map((a, i) => ({
        rank: i + 1,
        name: a.record.name,
        domain: a.record.domain.replace(/^www\./, ''),
        country: a.record.country,
        city: a.record.city,
        industry: a.record.industry,
        employees: a.record.employees,
        score: a.score,
        reasons: a.reasons,
      })),
      summary: state.summary,
      query: state.query,
      searched: state.found.length,
      duplicatesRemoved: state.removed,
      tool: tool.name,
      model: state.model,
    }),
  })
}

async function ask(run: RunContext, prompt: Prompt, description: string, task: string, schema: Record<string, unknown>, name: string) {
  const text = prompt.render({ description, knownIndustries: KNOWN_INDUSTRIES.join(', '), task })
  const params = prompt.params
  return run.model.generate({
    name,
    messages: [{ role: 'user', content: text }],
    schema,
    signal: run.signal,
    ...(typeof params.temperature === 'number' ? { temperature: params.temperature } : {}),
    ...(typeof params.maxTokens === 'number' ? { maxTokens: params.maxTokens } : {}),
  })
}

function union(a: readonly string[], b: readonly string[]): string[] {
  return [...new Set([...a, ...b])]
}

function here(file: string): string {
  return decodeURIComponent(new URL(file, import.meta.url).pathname)
}
