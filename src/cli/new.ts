// `switchyard new WORKFLOW --pool POOL`: scaffold a workflow (graph, prompt, schemas,
// example input, test) and append its registry entry, keeping the file's comments.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { POOL_NAME, SwitchyardError, WORKFLOW_NAME, suggest } from '../control/index.js'
import { CONFIG_OPTION, configPath, parse } from './args.js'
import {
  exampleTemplate,
  graphTemplate,
  inputSchemaTemplate,
  outputSchemaTemplate,
  promptTemplate,
  testTemplate,
  type ScaffoldNames,
} from './new-templates.js'
import { pythonGraphTemplate, pythonTestTemplate } from './new-python-templates.js'

const HELP = `usage: switchyard new WORKFLOW --pool POOL [--config FILE] [--description TEXT] [--test-dir DIR]

Scaffolds workflows/<name-with-dashes>/{graph.ts,prompt.md,input.schema.json,
output.schema.json,example.json} beside the registry file, a test in --test-dir
(default: test/ beside the registry), and appends the workflow's entry to the
registry (comments and layout kept). For a runtime: python pool: graph.py (LangGraph
Python) and a pytest test. Refuses a name that exists or a pool that does not.

  --pool POOL          the pool that runs it (must exist in the registry)
  --config FILE        registry file (default: SWITCHYARD_CONFIG or ./switchyard.yaml)
  --description TEXT   one line for the registry and the prompt
  --test-dir DIR       where the test goes, relative to the registry (default: test)`

export interface ScaffoldOptions {
  readonly workflow: string
  readonly pool: string
  readonly config: string
  readonly description?: string
  readonly testDir?: string
}

/** Files written, relative to the registry's folder. */
export interface ScaffoldResult {
  readonly folder: string
  readonly files: readonly string[]
  /** True when there was no registry and this one started it (with the pool). */
  readonly createdRegistry: boolean
}

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parse(
    args,
    { ...CONFIG_OPTION, pool: { type: 'string' }, description: { type: 'string' }, 'test-dir': { type: 'string' } },
    true,
  )
  if (values.help) {
    console.log(HELP)
    return 0
  }
  const [workflow, ...extra] = positionals
  if (workflow === undefined || extra.length > 0 || typeof values.pool !== 'string') {
    console.error(HELP)
    return 1
  }
  const config = configPath(typeof values.config === 'string' ? values.config : undefined)
  const result = await scaffold({
    workflow,
    pool: values.pool,
    config,
    ...(typeof values.description === 'string' ? { description: values.description } : {}),
    ...(typeof values['test-dir'] === 'string' ? { testDir: values['test-dir'] } : {}),
  })
  const shown = relative(process.cwd(), config) || config
  // The default registry needs no --config: the commands are shown the way they run.
  const configFlag = config === configPath(undefined) ? '' : ` --config ${shown}`
  console.log(
    [
      `created ${workflow} in pool ${values.pool}:`,
      ...result.files.map((f) => `  ${f}`),
      result.createdRegistry ? `  ${shown} (a new registry, with pool ${values.pool})` : `  ${shown} (registry entry appended)`,
      '',
      'next:',
      `  npx switchyard check${configFlag}`,
      `  npx switchyard dev${configFlag}            # restart it if it is already running, or use --watch`,
      `  npx switchyard run ${workflow} --input @${join(dirname(shown), result.folder, 'example.json')}`,
      result.files.at(-1)?.endsWith('.py')
        ? `  python3 -m pytest ${join(dirname(shown), result.files.at(-1) ?? '')}`
        : `  node --import tsx --test ${join(dirname(shown), result.files.at(-1) ?? '')}`,
    ].join('\n'),
  )
  return 0
}

/** Scaffold without printing (the CLI and tests call this). */
export async function scaffold(options: ScaffoldOptions): Promise<ScaffoldResult> {
  const { workflow, pool, config } = options
  if (!WORKFLOW_NAME.test(workflow)) {
    throw new SwitchyardError(
      'BAD_REQUEST',
      `invalid workflow name '${workflow}': use lowercase words joined by dots or dashes, e.g. lead.summary`,
    )
  }
  // A project's first workflow: its registry starts here, with the pool named.
  const createdRegistry = !existsSync(config)
  if (createdRegistry) {
    if (!/\.ya?ml$/.test(config)) throw new SwitchyardError('BAD_REQUEST', `no registry at ${config} (pass --config FILE)`)
    if (!POOL_NAME.test(pool))
      throw new SwitchyardError('BAD_REQUEST', `invalid pool name '${pool}': use lowercase words joined by '-', e.g. email`)
    mkdirSync(dirname(config), { recursive: true })
    writeFileSync(config, starterRegistry(pool), { flag: 'wx' })
  }
  const root = dirname(config)
  const source = readFileSync(config, 'utf8')
  const isJson = config.endsWith('.json')
  const registry = isJson ? await jsonRegistry(source) : await yamlRegistry(source)

  const existing = registry.workflowLine(workflow)
  if (existing !== undefined) {
    throw new SwitchyardError(
      'BAD_REQUEST',
      `workflow '${workflow}' already exists in ${config}${existing ? `:${existing}` : ''}; pick another name`,
    )
  }
  if (!registry.pools.includes(pool)) {
    const hint = suggest(pool, registry.pools)
    throw new SwitchyardError(
      'BAD_REQUEST',
      `unknown pool '${pool}'.${hint.length ? ` Did you mean ${hint.map((h) => `'${h}'`).join(' or ')}?` : ''} Pools in ${config}: ${registry.pools.join(', ') || '(none)'}`,
    )
  }
  const folder = `workflows/${workflow.replace(/\./g, '-')}`
  const dir = join(root, folder)
  if (existsSync(dir)) throw new SwitchyardError('BAD_REQUEST', `${dir} already exists; remove it or pick another name`)

  const names: ScaffoldNames = {
    workflow,
    folder: folder.slice('workflows/'.length),
    pool,
    description: options.description ?? `Describe what ${workflow} does in one line.`,
  }
  const testDir = options.testDir ?? 'test'
  const python = registry.runtime(pool) === 'python'
  const testFile = join(testDir, python ? `test_${names.folder.replace(/-/g, '_')}.py` : `${names.folder}.test.ts`)
  const fromTest = (path: string) => relative(join(root, testDir), join(root, path)).split('\\').join('/')
  const files: Array<[string, string]> = python
    ? [
        [`${folder}/graph.py`, pythonGraphTemplate(names)],
        [`${folder}/prompt.md`, promptTemplate(names)],
        [`${folder}/input.schema.json`, inputSchemaTemplate(names)],
        [`${folder}/output.schema.json`, outputSchemaTemplate(names)],
        [`${folder}/example.json`, exampleTemplate()],
        [testFile, pythonTestTemplate(names, testFile, fromTest(folder))],
      ]
    : [
        [`${folder}/graph.ts`, graphTemplate(names)],
        [`${folder}/prompt.md`, promptTemplate(names)],
        [`${folder}/input.schema.json`, inputSchemaTemplate(names)],
        [`${folder}/output.schema.json`, outputSchemaTemplate(names)],
        [`${folder}/example.json`, exampleTemplate()],
        [
          testFile,
          testTemplate(
            names,
            testFile,
            `${dotted(fromTest(`${folder}/graph.js`))}`,
            dotted(fromTest(`${folder}/prompt.md`)),
            dotted(fromTest(`${folder}/example.json`)),
          ),
        ],
      ]
  if (existsSync(join(root, testFile))) throw new SwitchyardError('BAD_REQUEST', `${join(root, testFile)} already exists`)

  const entry = {
    pool,
    graph: `${folder}/graph.${python ? 'py' : 'ts'}#graph`,
    prompt: `${folder}/prompt.md`,
    input: `${folder}/input.schema.json`,
    output: `${folder}/output.schema.json`,
    description: names.description,
  }
  const updated = registry.append(workflow, entry)
  for (const [path, text] of files) {
    mkdirSync(dirname(join(root, path)), { recursive: true })
    writeFileSync(join(root, path), text, { flag: 'wx' })
  }
  writeFileSync(config, updated)
  return { folder, files: files.map(([path]) => path), createdRegistry }
}

/** The registry of a new project: one node pool, traced in full. */
function starterRegistry(pool: string): string {
  return [
    '# The Switchyard registry: pools (isolated worker processes) and the workflows they run.',
    "# Every key is in switchyard-ai's README and spec/registry.schema.json (editors validate against it).",
    'version: 1',
    '',
    'pools:',
    `  ${pool}:`,
    '    runtime: node',
    '    timeout: 60s',
    `    tracing: { project: ${pool}, sampleRate: 1.0, capture: full }`,
    '',
    'workflows:',
    '',
  ].join('\n')
}

interface EditableRegistry {
  readonly pools: string[]
  /** A pool's runtime as written (default node). */
  runtime(pool: string): string
  /** The line of an existing workflow entry (0 when unknown), or undefined when there is none. */
  workflowLine(name: string): number | undefined
  /** The registry text with the entry appended. */
  append(name: string, entry: Record<string, string>): string
}

// The new entry is spliced in as text after the last workflow, so every byte the person
// wrote (comments, flow maps, spacing) stays as it was; the yaml Document API only finds where.
async function yamlRegistry(source: string): Promise<EditableRegistry> {
  const { parseDocument, isMap, isScalar, LineCounter, Document } = await import('yaml')
  const lines = new LineCounter()
  const doc = parseDocument(source, { lineCounter: lines })
  if (doc.errors.length) throw new SwitchyardError('REGISTRY_INVALID', `the registry does not parse: ${doc.errors[0]?.message ?? ''}`)
  const pools = doc.get('pools')
  const workflows = doc.get('workflows', true)
  const keyOf = (key: unknown) => String(isScalar(key) ? key.value : key)
  return {
    pools: isMap(pools) ? pools.items.map((pair) => keyOf(pair.key)) : [],
    runtime(pool) {
      const runtime: unknown = doc.getIn(['pools', pool, 'runtime'])
      return typeof runtime === 'string' ? runtime : 'node'
    },
    workflowLine(name) {
      if (!isMap(workflows)) return undefined
      const pair = workflows.items.find((p) => keyOf(p.key) === name)
      if (!pair) return undefined
      const offset = isScalar(pair.key) ? pair.key.range?.[0] : undefined
      return offset === undefined ? 0 : lines.linePos(offset).line
    },
    append(name, entry) {
      const last = isMap(workflows) && !workflows.flow ? workflows.items.at(-1) : undefined
      const end = (last?.value as { range?: [number, number, number] } | undefined)?.range?.[2]
      const first = workflows && isMap(workflows) ? workflows.items[0]?.key : undefined
      const start = isScalar(first) ? first.range?.[0] : undefined
      if (end === undefined || start === undefined) {
        // No block-style workflows map to extend: let the Document API write the file.
        if (isMap(workflows)) workflows.set(doc.createNode(name), doc.createNode(entry))
        else doc.set('workflows', doc.createNode({ [name]: entry }))
        return doc.toString({ lineWidth: 0 })
      }
      const indent = ' '.repeat(lines.linePos(start).col - 1)
      const text = new Document({ [name]: entry }).toString({ lineWidth: 0 })
      const block = text
        .trimEnd()
        .split('\n')
        .map((line) => `${indent}${line}`)
        .join('\n')
      return `${source.slice(0, end).replace(/\n*$/, '')}\n\n${block}\n${source.slice(end).replace(/^\n+/, '')}`
    },
  }
}

async function jsonRegistry(source: string): Promise<EditableRegistry> {
  let data: { pools?: Record<string, unknown>; workflows?: Record<string, unknown> }
  try {
    data = JSON.parse(source) as typeof data
  } catch (error) {
    throw new SwitchyardError('REGISTRY_INVALID', `the registry does not parse: ${(error as Error).message}`)
  }
  return {
    pools: Object.keys(data.pools ?? {}),
    runtime(pool) {
      const runtime = (data.pools?.[pool] as { runtime?: unknown } | undefined)?.runtime
      return typeof runtime === 'string' ? runtime : 'node'
    },
    workflowLine(name) {
      if (!data.workflows || !Object.hasOwn(data.workflows, name)) return undefined
      const at = source.indexOf(JSON.stringify(name))
      return at < 0 ? 0 : source.slice(0, at).split('\n').length
    },
    append(name, entry) {
      return `${JSON.stringify({ ...data, workflows: { ...data.workflows, [name]: entry } }, null, 2)}\n`
    },
  }
}

function dotted(path: string): string {
  return path.startsWith('.') ? path : `./${path}`
}
