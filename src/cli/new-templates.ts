// What `switchyard new` writes: a working one-node LangGraph workflow, its prompt,
// schemas, an example input and a test. Plain strings, so the scaffold has no build step.

export interface ScaffoldNames {
  /** Workflow name as registered, e.g. `lead.summary`. */
  readonly workflow: string
  /** Folder name, e.g. `lead-summary`. */
  readonly folder: string
  readonly pool: string
  readonly description: string
}

export function graphTemplate(n: ScaffoldNames): string {
  return `// ${n.workflow}: ${n.description}
// Module level imports nothing but switchyard-ai/graph (and types): LangGraph and anything
// heavy load inside the factory, so the ${n.pool} pool pays for them only when it runs this graph.
import { defineGraph, loadPrompt, runOf } from 'switchyard-ai/graph'
import type { GraphSetup } from 'switchyard-ai/graph'

export interface Input {
  readonly text: string
}

export interface Output {
  readonly answer: string
  readonly model: string
}

// What the model must answer with; checked, and retried once when it does not fit.
const ANSWER_SCHEMA = {
  type: 'object',
  properties: { answer: { type: 'string', minLength: 1 } },
  required: ['answer'],
  additionalProperties: false,
}

/** The graph factory the pool worker calls once per process. */
export async function graph(setup: GraphSetup) {
  const { StateGraph, Annotation, START, END } = await import('@langchain/langgraph')
  const fallbackPrompt = setup.prompt ?? loadPrompt(decodeURIComponent(new URL('./prompt.md', import.meta.url).pathname))

  const State = Annotation.Root({
    input: Annotation<Input>,
    answer: Annotation<string>,
    model: Annotation<string>,
  })

  const compiled = new StateGraph(State)
    .addNode('respond', async (state: typeof State.State, config) => {
      const run = runOf(config)
      const prompt = run.prompt ?? fallbackPrompt
      const result = await run.model.generate({
        name: 'respond',
        messages: [{ role: 'user', content: prompt.render({ text: state.input.text }) }],
        schema: ANSWER_SCHEMA,
        signal: run.signal,
        ...(typeof prompt.params.temperature === 'number' ? { temperature: prompt.params.temperature } : {}),
      })
      return { answer: (result.object as { answer: string }).answer, model: result.model }
    })
    .addEdge(START, 'respond')
    .addEdge('respond', END)
    .compile()

  // The compiled graph (each node a span in the run's trace), how the workflow's input
  // becomes the graph's state, and which part of the final state is the output.
  return defineGraph({
    graph: compiled,
    input: (input: Input) => ({ input }),
    output: (state): Output => ({ answer: state.answer, model: state.model }),
  })
}
`
}

export function promptTemplate(n: ScaffoldNames): string {
  return `---
temperature: 0.3
maxTokens: 500
---
You are a helpful assistant for the sales team. Task: ${n.description}

The input:
{{text}}

Answer with a JSON object: { "answer": "..." }.
`
}

export function inputSchemaTemplate(n: ScaffoldNames): string {
  return `${JSON.stringify(
    {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      title: `${pascal(n.workflow)}Input`,
      type: 'object',
      required: ['text'],
      additionalProperties: false,
      properties: { text: { type: 'string', minLength: 1, description: 'What the workflow works on.' } },
    },
    null,
    2,
  )}\n`
}

export function outputSchemaTemplate(n: ScaffoldNames): string {
  return `${JSON.stringify(
    {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      title: `${pascal(n.workflow)}Output`,
      type: 'object',
      required: ['answer', 'model'],
      additionalProperties: false,
      properties: {
        answer: { type: 'string' },
        model: { type: 'string', description: "The model that answered ('offline' for the offline model)." },
      },
    },
    null,
    2,
  )}\n`
}

export function exampleTemplate(): string {
  return `${JSON.stringify({ text: 'Ada Lindqvist, VP Revenue Operations at Fjordline Logistics, asked about faster lead routing.' }, null, 2)}\n`
}

/** A node:test file beside the registry: runs the graph with the offline model. */
export function testTemplate(n: ScaffoldNames, testFile: string, graphImport: string, promptPath: string, examplePath: string): string {
  return `// ${n.workflow}: runs the graph with the offline model (no network, deterministic).
// Run from the registry's folder: node --import tsx --test ${testFile}
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { createRunContext, loadPrompt, runGraph, setupOf } from 'switchyard-ai/graph'
import { graph, type Output } from '${graphImport}'

const here = (path: string) => decodeURIComponent(new URL(path, import.meta.url).pathname)

void test('${n.workflow} answers the example input offline', async () => {
  const run = createRunContext({ workflow: '${n.workflow}', pool: '${n.pool}', prompt: loadPrompt(here('${promptPath}')) })
  const input = JSON.parse(readFileSync(here('${examplePath}'), 'utf8')) as unknown
  const output = (await runGraph(await graph(setupOf(run)), input, run)) as Output
  assert.equal(output.model, 'offline')
  assert.ok(output.answer.startsWith('[offline]'))
})
`
}

function pascal(name: string): string {
  return name
    .split(/[.-]/)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('')
}
