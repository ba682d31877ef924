import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync, rmSync, utimesSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { generateRegistry, typicalInput } from '../../../bench/control-plane/generate-registry.js'
import { InvalidInputError, loadRegistry, rebuildRegistry, route } from '../../../src/control/index.js'
import { folder, lines, loadAndUse, problemsOf, type Folder } from '../fixture.js'

const made: Folder[] = []
after(() => made.forEach((f) => f.remove()))

function make(files: Record<string, string>): Folder {
  const f = folder(files)
  made.push(f)
  return f
}

const YAML = (schema: string) => `version: 1
pools:
  email: { timeout: 30s }
workflows:
  email.compose:
    pool: email
    graph: wf/graph.ts
    input: ${schema}
    description: d
`

void describe('the compiled registry is a cache that is never stale', () => {
  void it('is written beside the registry on first load and used next time', () => {
    const f = make({ 'switchyard.yaml': YAML('{ type: object }') })
    const first = loadRegistry(f.path('switchyard.yaml'))
    assert.ok(existsSync(f.path('.switchyard/switchyard.yaml.compiled.json')))
    assert.equal(readdirSync(f.path('.switchyard/validators')).length, 1)
    const second = loadRegistry(f.path('switchyard.yaml'))
    assert.equal(second.digest, first.digest)
  })

  void it('sees an edit to a referenced schema file, even one of the same size within the same second', () => {
    const f = make({ 'wf/input.schema.json': '{ "type": "object", "required": ["aa"] }', 'switchyard.yaml': YAML('wf/input.schema.json') })
    const file = f.path('switchyard.yaml')
    const before = loadRegistry(file)
    assert.throws(() => route(before, { workflow: 'email.compose', input: {} }), {
      message: "invalid input for 'email.compose': /aa: is required",
    })
    f.write('wf/input.schema.json', '{ "type": "object", "required": ["bb"] }')
    const after = loadRegistry(file)
    assert.throws(() => route(after, { workflow: 'email.compose', input: {} }), {
      message: "invalid input for 'email.compose': /bb: is required",
    })
    // The digest of the compiled form the workflow was served from: rebuilt on its first use.
    assert.notEqual(after.digest, before.digest)
  })

  void it('sees an edit that keeps size and mtime (bytes are hashed when the stamp is recent)', () => {
    const f = make({ 'wf/input.schema.json': '{ "type": "object", "required": ["aa"] }', 'switchyard.yaml': YAML('wf/input.schema.json') })
    const schema = f.path('wf/input.schema.json')
    const stamp = new Date()
    utimesSync(schema, stamp, stamp)
    loadRegistry(f.path('switchyard.yaml'))
    f.write('wf/input.schema.json', '{ "type": "object", "required": ["cc"] }')
    utimesSync(schema, stamp, stamp)
    const after = loadRegistry(f.path('switchyard.yaml'))
    assert.throws(() => route(after, { workflow: 'email.compose', input: {} }), {
      message: "invalid input for 'email.compose': /cc: is required",
    })
  })

  void it('reports problems introduced after the cache was written, on first use', () => {
    const f = make({ 'wf/input.schema.json': '{ "type": "object" }', 'switchyard.yaml': YAML('wf/input.schema.json') })
    loadRegistry(f.path('switchyard.yaml'))
    f.write('wf/input.schema.json', '{ "type": "objet" }')
    assert.throws(() => loadAndUse(f.path('switchyard.yaml')), { code: 'REGISTRY_INVALID' })
    rmSync(f.path('wf/input.schema.json'))
    assert.throws(() => loadAndUse(f.path('switchyard.yaml')), /input: file not found: wf\/input.schema.json/)
  })

  void it('sees a graph module, prompt or env file deleted since the cache was written, on first use', () => {
    const f = make({
      'wf/prompt.md': 'Hello\n',
      'email.env': 'A=1\n',
      'switchyard.yaml': `version: 1
pools:
  email: { env: email.env }
workflows:
  email.compose:
    pool: email
    graph: wf/graph.ts
    prompt: wf/prompt.md
    input: { type: object }
    description: d
`,
    })
    const file = f.path('switchyard.yaml')
    loadRegistry(file)
    for (const [path, problem] of [
      ['wf/graph.ts', "7:12 workflow 'email.compose' graph: file not found: wf/graph.ts"],
      ['wf/prompt.md', "8:13 workflow 'email.compose' prompt: file not found: wf/prompt.md"],
      ['email.env', "3:17 pool 'email' env: file not found: email.env"],
    ] as const) {
      const bytes = readFileSync(f.path(path), 'utf8')
      rmSync(f.path(path))
      assert.deepEqual(lines(problemsOf(() => loadAndUse(file))), [problem])
      f.write(path, bytes)
      loadRegistry(file)
    }
  })

  void it('rebuilds in a child process where the compiler cannot be required (forced), problems located as usual', () => {
    const f = make({ 'switchyard.yaml': YAML('{ type: object, required: [x] }') })
    const file = f.path('switchyard.yaml')
    process.env.SWITCHYARD_COMPILE_IN_CHILD = '1'
    try {
      const registry = loadRegistry(file)
      assert.throws(() => route(registry, { workflow: 'email.compose', input: {} }), {
        message: "invalid input for 'email.compose': /x: is required",
      })
      f.write('switchyard.yaml', YAML('{ type: objet }'))
      assert.deepEqual(lines(problemsOf(() => loadAndUse(file))), [
        `8:20 workflow 'email.compose' input schema is invalid: /type must be equal to one of the allowed values: "array", "boolean", "integer", "null", "number", "object", "string"`,
      ])
    } finally {
      delete process.env.SWITCHYARD_COMPILE_IN_CHILD
    }
  })

  void it('recompiles a validator whose cached code was removed', () => {
    const f = make({ 'switchyard.yaml': YAML('{ type: object, required: [x] }') })
    loadRegistry(f.path('switchyard.yaml'))
    rmSync(f.path('.switchyard/validators'), { recursive: true })
    const registry = loadRegistry(f.path('switchyard.yaml'))
    assert.throws(() => route(registry, { workflow: 'email.compose', input: {} }), InvalidInputError)
  })

  void it('rebuildRegistry ignores the cache and returns problems instead of throwing', () => {
    const f = make({ 'switchyard.yaml': YAML('{ type: object }') })
    assert.equal(rebuildRegistry(f.path('switchyard.yaml')).problems.length, 0)
    f.write('switchyard.yaml', YAML('{ type: object }').replace('30s', 'soon'))
    const { registry, problems } = rebuildRegistry(f.path('switchyard.yaml'))
    assert.equal(registry, null)
    assert.deepEqual(
      problems.map((p) => p.message),
      [`pool 'email' timeout: "soon" is not a duration (use 250ms, 30s, 2m or 1h)`],
    )
  })
})

void describe('the registry digest', () => {
  const digestOf = (yaml: string) => {
    const f = make({ 'switchyard.yaml': yaml })
    return loadRegistry(f.path('switchyard.yaml')).digest
  }
  const base = digestOf(YAML('{ type: object, properties: { a: { type: string } } }'))

  void it('is stable across key order, whitespace, comments and YAML vs JSON', () => {
    assert.equal(
      digestOf(
        `# comment\nworkflows:\n  email.compose: { description: d, input: { properties: { a: { type: string } }, type: object }, graph: wf/graph.ts, pool: email }\npools: { email: { timeout: 30s } }\nversion: 1\n`,
      ),
      base,
    )
    const f = make({})
    f.write(
      'switchyard.json',
      JSON.stringify({
        version: 1,
        pools: { email: { timeout: '30s' } },
        workflows: {
          'email.compose': {
            pool: 'email',
            graph: 'wf/graph.ts',
            input: { type: 'object', properties: { a: { type: 'string' } } },
            description: 'd',
          },
        },
      }),
    )
    assert.equal(loadRegistry(f.path('switchyard.json')).digest, base)
  })

  void it('changes when anything that matters changes', () => {
    assert.notEqual(digestOf(YAML('{ type: object, properties: { a: { type: number } } }')), base)
    assert.notEqual(digestOf(YAML('{ type: object, properties: { a: { type: string } } }').replace('30s', '31s')), base)
  })
})

void describe('a registry of 1,000 workflows', () => {
  void it('loads (fresh and cached) and routes', () => {
    const f = make({})
    const file = generateRegistry(join(f.dir, 'big'), 1000)
    const fresh = loadRegistry(file)
    assert.equal(fresh.workflows.size, 1000)
    const cached = loadRegistry(file)
    assert.equal(cached.digest, fresh.digest)
    const plan = route(cached, { workflow: 'sales.flow-999', input: typicalInput(999) })
    assert.equal(plan.pool, 'score')
    assert.deepEqual(plan.input, { ...typicalInput(999), tone: 'warm' })
  })
})
