// email.compose: gather lead facts → draft → check → revise (at most twice) → { subject, body, checks }.
// Module level imports nothing but switchyard-ai/graph: LangGraph and the draft rules load in the factory.
import { defineGraph, loadPrompt, runOf } from 'switchyard-ai/graph'
import type { GraphSetup, Prompt, RunContext } from 'switchyard-ai/graph'
import type { Brief, Check, Draft, EmailInput, Product } from './types.js'

const MAX_REVISIONS = 2
const DRAFT_SCHEMA = {
  type: 'object',
  properties: { subject: { type: 'string', minLength: 1, maxLength: 120 }, body: { type: 'string', minLength: 1 } },
  required: ['subject', 'body'],
  additionalProperties: false,
} as const

export interface EmailOutput {
  readonly subject: string
  readonly body: string
  readonly checks: readonly Check[]
  readonly revisions: number
  readonly model: string
}

/** The graph factory the pool worker calls once per process. */
export async function graph(setup: GraphSetup) {
  const [{ StateGraph, Annotation, START, END }, rules, { readFileSync }] = await Promise.all([
    import('@langchain/langgraph'),
    import('./drafting.js'),
    import('node:fs'),
  ])
  const here = (file: string) => decodeURIComponent(new URL(file, import.meta.url).pathname)
  const defaultProduct = JSON.parse(readFileSync(here('./product-facts.json'), 'utf8')) as Product
  const fallbackPrompt = setup.prompt ?? loadPrompt(here('./prompt.md'))

  const renderDraftPrompt = (prompt: Prompt, brief: Brief) =>
    prompt.render({
      tone: brief.tone,
      maxWords: brief.maxWords,
      facts: factLines(brief),
      productName: brief.product.name,
      productFacts: brief.product.facts.map((f) => `- ${brief.product.name} ${f}`).join('\n'),
      senderName: brief.sender.name,
      outline: rules.outline(brief),
    })

  const State = Annotation.Root({
    input: Annotation<EmailInput>,
    brief: Annotation<Brief>,
    draft: Annotation<Draft>,
    checks: Annotation<Check[]>,
    revisions: Annotation<number>,
    model: Annotation<string>,
  })
  type S = typeof State.State

  const compiled = new StateGraph(State)
    .addNode('gather', (state: S) => ({ brief: gather(state.input, defaultProduct), revisions: 0 }))
    .addNode('write_draft', async (state: S, config) => {
      const run = runOf(config)
      const prompt = run.prompt ?? fallbackPrompt
      const text = renderDraftPrompt(prompt, state.brief)
      const draft = await write(run, prompt, [{ role: 'user', content: text }], 'draft')
      return { draft: draft.value, model: draft.model }
    })
    .addNode('run_checks', (state: S) => ({ checks: rules.checkDraft(state.draft, state.brief) }))
    .addNode('revise', async (state: S, config) => {
      const run = runOf(config)
      const prompt = run.prompt ?? fallbackPrompt
      const problems = state.checks.filter((c) => !c.passed).map((c) => `- ${c.name}: ${c.detail}`)
      const suggestion = rules.repair(state.draft, state.brief)
      const text = [
        'Revise this email so that it passes these checks:',
        ...problems,
        '',
        `The only claims allowed are these product facts:\n${state.brief.product.facts.map((f) => `- ${f}`).join('\n')}`,
        '',
        'A corrected version you may improve on:',
        `<subject>${suggestion.subject}</subject>`,
        `<body>\n${suggestion.body}\n</body>`,
        '',
        'Answer with a JSON object: { "subject": "...", "body": "..." }.',
      ].join('\n')
      const draft = await write(
        run,
        prompt,
        [
          { role: 'user', content: renderDraftPrompt(prompt, state.brief) },
          { role: 'assistant', content: JSON.stringify(state.draft) },
          { role: 'user', content: text },
        ],
        'revise',
      )
      return { draft: draft.value, revisions: state.revisions + 1, model: draft.model }
    })
    .addEdge(START, 'gather')
    .addEdge('gather', 'write_draft')
    .addEdge('write_draft', 'run_checks')
    .addConditionalEdges(
      'run_checks',
      (state: S) => (state.checks.every((c) => c.passed) || state.revisions >= MAX_REVISIONS ? END : 'revise'),
      ['revise', END],
    )
    .addEdge('revise', 'run_checks')
    .compile()

  // The compiled graph itself (the worker runs it, so each node is a span), the workflow's
  // input as the graph's `input`, and the flat output picked from the final state.
  return defineGraph({
    graph: compiled,
    input: (input: EmailInput) => ({ input }),
    output: (state): EmailOutput => ({
      subject: state.draft.subject,
      body: state.draft.body,
      checks: state.checks,
      revisions: state.revisions,
      model: state.model,
    }),
  })
}

function gather(input: EmailInput, defaultProduct: Product): Brief {
  const { lead } = input
  const hooks = [lead.recentNews, lead.city, lead.industry, ...(lead.notes ?? [])].filter(
    (h): h is string => typeof h === 'string' && h.trim() !== '',
  )
  return {
    lead,
    firstName: lead.name.trim().split(/\s+/)[0] ?? lead.name,
    sender: input.sender ?? { name: process.env.SALES_SENDER_NAME ?? 'The Northwind team' },
    product: input.product ?? defaultProduct,
    tone: input.tone ?? 'friendly',
    maxWords: input.maxWords ?? 150,
    hooks,
  }
}

function factLines(brief: Brief): string {
  const { lead } = brief
  return [
    `- Name: ${lead.name}${lead.title ? `, ${lead.title}` : ''}`,
    `- Company: ${lead.company}${lead.industry ? ` (${lead.industry})` : ''}${lead.city ? `, ${lead.city}` : ''}`,
    lead.recentNews ? `- Recent news: ${lead.recentNews}` : '',
    ...(lead.notes ?? []).map((n) => `- Note: ${n}`),
  ]
    .filter(Boolean)
    .join('\n')
}

async function write(run: RunContext, prompt: Prompt, turns: { role: 'user' | 'assistant'; content: string }[], name: string) {
  const params = prompt.params
  const result = await run.model.generate({
    name,
    messages: turns,
    schema: DRAFT_SCHEMA,
    signal: run.signal,
    ...(typeof params.temperature === 'number' ? { temperature: params.temperature } : {}),
    ...(typeof params.maxTokens === 'number' ? { maxTokens: params.maxTokens } : {}),
  })
  return { value: result.object as Draft, model: result.model }
}
