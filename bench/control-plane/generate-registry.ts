// Writes a realistic registry of N workflows into a folder: five pools, and per
// workflow its own folder with graph.ts, prompt.md and a distinct input schema
// file (the worst case for the cache: one schema file to verify per workflow).
// The 'shared' layout (for 10,000 workflows) points every workflow at one of
// ten schema files and one graph module, so generating and compiling stay quick.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export const POOLS = ['email', 'classify', 'discovery', 'enrich', 'score'] as const

/** The input every generated workflow accepts. */
export function typicalInput(i = 0): Record<string, unknown> {
  return { lead: { email: 'ada@example.com', name: 'Ada Lovelace', company: 'Analytical Engines' }, [`field${i}`]: 'x' }
}

export function inputSchema(i: number): Record<string, unknown> {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    type: 'object',
    properties: {
      lead: {
        type: 'object',
        properties: {
          email: { type: 'string', format: 'email' },
          name: { type: 'string', minLength: 1 },
          company: { type: 'string' },
        },
        required: ['email'],
        additionalProperties: false,
      },
      tone: { enum: ['warm', 'formal', 'brief'], default: 'warm' },
      [`field${i}`]: { type: 'string' },
    },
    required: ['lead'],
    additionalProperties: false,
  }
}

export interface GenerateOptions {
  readonly format?: 'yaml' | 'json'
  readonly layout?: 'per-workflow' | 'shared'
  /** Graph module source per workflow (default: a light factory); `.mjs` when given. */
  readonly graph?: (i: number) => string
}

/** Generate the registry; returns the registry file's path. */
export function generateRegistry(dir: string, count: number, options: GenerateOptions = {}): string {
  const { format = 'yaml', layout = 'per-workflow' } = options
  if (layout === 'shared') {
    mkdirSync(join(dir, 'shared'), { recursive: true })
    writeFileSync(join(dir, 'shared', 'graph.ts'), 'export const graph = () => (input: unknown) => input\n')
    for (let k = 0; k < 10; k++) writeFileSync(join(dir, 'shared', `input-${k}.schema.json`), JSON.stringify(inputSchema(k), null, 2))
  }
  mkdirSync(dir, { recursive: true })
  const pools: Record<string, unknown> = {}
  for (const pool of POOLS) {
    pools[pool] = { concurrency: 8, timeout: '30s', retries: 2, tracing: { project: `sales-${pool}`, sampleRate: 1, capture: 'full' } }
  }
  const workflows: Record<string, unknown> = {}
  for (let i = 0; i < count; i++) {
    const name = `sales.flow-${i}`
    if (layout === 'shared') {
      workflows[name] = {
        pool: POOLS[i % POOLS.length],
        graph: 'shared/graph.ts#graph',
        input: `shared/input-${i % 10}.schema.json`,
        description: `Generated workflow number ${i}.`,
      }
      continue
    }
    const folder = join(dir, 'workflows', `flow-${i}`)
    const graphFile = options.graph ? 'graph.mjs' : 'graph.ts'
    mkdirSync(folder, { recursive: true })
    writeFileSync(
      join(folder, graphFile),
      options.graph?.(i) ??
        "import type { GraphFactory } from 'switchyard-ai/graph'\n\nexport const graph: GraphFactory = () => (input) => input\n",
    )
    writeFileSync(join(folder, 'prompt.md'), `Write to {{lead.name}} (${i}).\n`)
    writeFileSync(join(folder, 'input.schema.json'), JSON.stringify(inputSchema(i), null, 2))
    workflows[name] = {
      pool: POOLS[i % POOLS.length],
      graph: `workflows/flow-${i}/${graphFile}#graph`,
      prompt: `workflows/flow-${i}/prompt.md`,
      input: `workflows/flow-${i}/input.schema.json`,
      description: `Generated workflow number ${i}.`,
    }
  }
  if (format === 'json') {
    const file = join(dir, 'switchyard.json')
    writeFileSync(file, JSON.stringify({ version: 1, pools, workflows }, null, 2))
    return file
  }
  const lines = ['version: 1', 'pools:']
  for (const [name, pool] of Object.entries(pools)) lines.push(`  ${name}: ${JSON.stringify(pool)}`)
  lines.push('workflows:')
  for (const [name, wf] of Object.entries(workflows)) {
    lines.push(`  ${name}:`)
    for (const [key, value] of Object.entries(wf as Record<string, string>)) lines.push(`    ${key}: ${value}`)
  }
  const file = join(dir, 'switchyard.yaml')
  writeFileSync(file, `${lines.join('\n')}\n`)
  return file
}
