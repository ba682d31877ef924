import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { after, describe, it, mock } from 'node:test'
import { check, formatReport, run } from '../../src/cli/check.js'
import { folder, type Folder } from '../control/fixture.js'

const made: Folder[] = []
after(() => made.forEach((f) => f.remove()))

const REGISTRY = `version: 1
pools:
  email: {}
workflows:
  email.compose:
    pool: email
    graph: wf/graph.ts#graph
    input: { type: object }
    description: d
`

const CLEAN_GRAPH = `import type { GraphSetup } from 'switchyard-ai/graph'
import { type RunContext, type Prompt } from 'switchyard-ai/graph'
import { loadPrompt } from 'switchyard-ai/graph'
export type { Brief } from './types.js'

export async function graph(setup: GraphSetup) {
  const { StateGraph } = await import('@langchain/langgraph')
  const helpers = await import('./helpers.js')
  return (input: unknown, run: RunContext) => [StateGraph, helpers, loadPrompt, setup, input, run]
}
`

function make(graph: string, extra: Record<string, string> = {}): Folder {
  const f = folder({ 'switchyard.yaml': REGISTRY, 'wf/graph.ts': graph, 'wf/types.ts': 'export interface Brief { a: string }\n', ...extra })
  made.push(f)
  return f
}

void describe('switchyard check', () => {
  void it('passes a clean registry and clean graphs, and writes the compiled registry', async () => {
    const f = make(CLEAN_GRAPH, {
      'wf/helpers.ts': "import type { Prompt } from 'switchyard-ai/graph'\nexport const x = (p: Prompt) => p\n",
    })
    const report = check(f.path('switchyard.yaml'))
    assert.equal(report.ok, true, formatReport(report))
    assert.equal(formatReport(report), `✓ ${f.path('switchyard.yaml')}: 1 workflow in 1 pool, graphs clean, registry ${report.digest}`)
    assert.ok(existsSync(f.path('.switchyard/switchyard.yaml.compiled.json')))
    const log = mock.method(console, 'log', () => undefined)
    try {
      assert.equal(await run(['--config', f.path('switchyard.yaml')]), 0)
    } finally {
      log.mock.restore()
    }
  })

  void it('reports every module-level value import as file:line:col with its specifier', async () => {
    const graph = `import { StateGraph } from '@langchain/langgraph'
import type { GraphSetup } from 'switchyard-ai/graph'
import './side-effect.js'
export { helper } from './helpers.js'

const config = await import('./config.js')
export const graph = (setup: GraphSetup) => [StateGraph, config, setup]
`
    const f = make(graph, {
      'wf/nested/util.js': "const fs = require('node:fs')\nmodule.exports = () => require('lodash')\n",
      'wf/nested/mixed.ts': "import def, { type A } from 'openai'\nexport const m = (a: A) => [def, a]\n",
    })
    const report = check(f.path('switchyard.yaml'))
    assert.equal(report.ok, false)
    assert.deepEqual(
      report.imports.map((o) => `${o.file.slice(f.dir.length + 1)}:${o.line}:${o.column} ${o.specifier}`),
      [
        'wf/graph.ts:1:1 @langchain/langgraph',
        'wf/graph.ts:3:1 ./side-effect.js',
        'wf/graph.ts:4:1 ./helpers.js',
        'wf/graph.ts:6:22 ./config.js',
        'wf/nested/mixed.ts:1:1 openai',
        'wf/nested/util.js:1:12 node:fs',
      ],
    )
    assert.equal(
      formatReport(report).split('\n')[0],
      `${f.path('wf/graph.ts')}:1:1: module-level import of '@langchain/langgraph': import it inside the graph factory (await import('@langchain/langgraph')) or use 'import type'`,
    )
    assert.equal(formatReport(report).split('\n').at(-1), `✗ ${f.path('switchyard.yaml')}: 6 problems (graph modules)`)
    const error = mock.method(console, 'error', () => undefined)
    try {
      assert.equal(await run(['--config', f.path('switchyard.yaml')]), 1)
    } finally {
      error.mock.restore()
    }
  })

  void it('reports a graph module without the export the registry names', () => {
    const f = make('export function grph() {}\nexport const other = 1\n')
    const report = check(f.path('switchyard.yaml'))
    assert.deepEqual(formatReport(report).split('\n'), [
      `${f.path('wf/graph.ts')}: workflow 'email.compose': the graph module has no export 'graph' (it exports: grph, other)`,
      `✗ ${f.path('switchyard.yaml')}: 1 problem (graph modules)`,
    ])
    f.write('wf/graph.ts', "export { graph } from './impl.js'\n")
    assert.deepEqual(check(f.path('switchyard.yaml')).exports, [])
    f.write('wf/graph.ts', 'const graph = () => 1\nexport default graph\nexport { graph }\n')
    assert.deepEqual(check(f.path('switchyard.yaml')).exports, [])
  })

  void it('reports registry problems (and skips the lint) with --json for tools', async () => {
    const f = make(CLEAN_GRAPH)
    f.write('switchyard.yaml', REGISTRY.replace('pool: email', 'pool: emial'))
    const printed: string[] = []
    const log = mock.method(console, 'log', (text: string) => printed.push(text))
    try {
      assert.equal(await run(['--config', f.path('switchyard.yaml'), '--json']), 1)
    } finally {
      log.mock.restore()
    }
    assert.deepEqual(JSON.parse(printed.join('\n')), {
      ok: false,
      config: f.path('switchyard.yaml'),
      digest: null,
      pools: 0,
      workflows: 0,
      problems: [
        {
          file: f.path('switchyard.yaml'),
          line: 6,
          column: 11,
          message: "workflow 'email.compose': unknown pool 'emial' (did you mean 'email'?)",
        },
      ],
      exports: [],
      imports: [],
    })
  })
})
