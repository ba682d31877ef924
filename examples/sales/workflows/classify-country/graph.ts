// classify.country: deterministic signals first (ccTLD, phone, address), the model only
// when they disagree or are missing. Module level imports nothing but switchyard-ai/graph.
import { loadPrompt } from 'switchyard-ai/graph'
import type { GraphSetup, RunContext } from 'switchyard-ai/graph'
import type { Candidate, Classification, Lead, Signal } from './types.js'

/** The graph factory the pool worker calls once per process. */
export async function graph(setup: GraphSetup) {
  const [{ createSignals }, { readFileSync }] = await Promise.all([import('./signals.js'), import('node:fs')])
  const here = (file: string) => decodeURIComponent(new URL(file, import.meta.url).pathname)
  const cities = JSON.parse(readFileSync(here('./cities.json'), 'utf8')) as Record<string, string[]>
  delete cities._comment
  const signals = await createSignals(cities)
  const fallbackPrompt = setup.prompt ?? loadPrompt(here('./prompt.md'))
  const minConfidence = Number(process.env.CLASSIFY_MIN_CONFIDENCE ?? 0.5)

  // A plain function, not a LangGraph graph: two steps and one branch need no state machine,
  // and bulk classification is the pool where per-run overhead counts.
  return async (input: unknown, run: RunContext): Promise<Classification> => {
    const lead = input as Lead
    const found = signals.read(lead)
    const candidates = signals.rank(found)
    const evidence = found.map(describe)
    const [top, second] = candidates
    if (top && !second && top.score >= minConfidence) {
      return { country: top.country, confidence: top.score, method: 'signals', evidence }
    }
    const answer = await askModel(run, run.prompt ?? fallbackPrompt, lead, candidates, evidence)
    return {
      country: answer.country,
      confidence: answer.confidence,
      method: answer.country === null && candidates.length === 0 ? 'none' : 'model',
      evidence: [...evidence, `model: ${answer.reason}`],
      model: run.model.id,
    }
  }
}

async function askModel(
  run: RunContext,
  prompt: NonNullable<RunContext['prompt']>,
  lead: Lead,
  candidates: readonly Candidate[],
  evidence: readonly string[],
) {
  const [top, second] = candidates
  // The estimate is what the signals alone would say; a model may overrule it.
  const estimate = top ? Math.max(0.05, Math.min(0.95, Math.round((top.score - (second?.score ?? 0) / 2) * 100) / 100)) : 0
  const question = top
    ? [
        `The signals disagree. Candidates, most likely first: ${candidates.map((c) => `${c.country} (${c.score})`).join(', ')}.`,
        'Estimate from the signals alone:',
        `country: ${top.country}`,
        `confidence: ${estimate}`,
        `reason: ${top.country} has the strongest signals (${[...new Set(top.signals.map((s) => s.kind))].join(', ')})`,
      ].join('\n')
    : [
        'No deterministic signal points to a country. Answer null unless the lead itself makes the country clear.',
        'reason: no signal names a country',
      ].join('\n')
  const text = prompt.render({
    lead: JSON.stringify(lead, null, 2),
    evidence: evidence.length ? evidence.map((e) => `- ${e}`).join('\n') : '- nothing',
    question,
  })
  const schema = {
    type: 'object',
    properties: {
      country: top ? { enum: [...candidates.map((c) => c.country), null] } : { type: ['string', 'null'], pattern: '^[A-Z]{2}$' },
      confidence: { type: 'number', minimum: 0, maximum: 1 },
      reason: { type: 'string' },
    },
    required: ['country', 'confidence', 'reason'],
    additionalProperties: false,
  }
  const params = prompt.params
  const result = await run.model.generate({
    name: 'classify',
    messages: [{ role: 'user', content: text }],
    schema,
    signal: run.signal,
    ...(typeof params.temperature === 'number' ? { temperature: params.temperature } : {}),
    ...(typeof params.maxTokens === 'number' ? { maxTokens: params.maxTokens } : {}),
  })
  const object = result.object as { country: string | null; confidence: number; reason: string }
  return { ...object, confidence: object.country === null ? Math.min(object.confidence, estimate) : object.confidence }
}

function describe(signal: Signal): string {
  return `${signal.kind} ${signal.value} → ${signal.country} (${signal.weight})`
}
