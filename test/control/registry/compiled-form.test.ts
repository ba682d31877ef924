// The compiled form is a cache: a registry loaded from it is the registry the
// files say, field for field, and it is trusted only as far as its stamps go.
import assert from 'node:assert/strict'
import { readFileSync, rmSync, statSync, utimesSync } from 'node:fs'
import { setTimeout as delay } from 'node:timers/promises'
import { after, describe, it } from 'node:test'
import { loadRegistry, rebuildRegistry, route, type Registry } from '../../../src/control/index.js'
import { folder, type Folder } from '../fixture.js'

const made: Folder[] = []
after(() => made.forEach((f) => f.remove()))

const REGISTRY = `version: 1
shared: [../shared, ../wf]
pools:
  email: { env: ../shared/email.env, timeout: 30s }
  classify: { concurrency: 2 }
workflows:
  email.compose:
    pool: email
    graph: ../wf/graph.ts#compose
    prompt: prompts/compose.md
    input: schemas/compose.json
    description: Compose.
  email.followup:
    pool: email
    graph: ./../wf/graph.ts
    prompt: ../shared/followup.md
    input: { type: object, required: [x] }
    output: { type: object }
    description: Follow up.
    retries: 0
  lead.classify:
    pool: classify
    graph: ../wf/graph.ts#classify
    input: schemas/compose.json
    description: Classify.
    timeout: 5s
`

/** A registry in reg/ that reaches outside its folder too (../wf, ../shared, listed as shared). */
function make(): { f: Folder; file: string } {
  const f = folder({
    'shared/email.env': 'A=1\n',
    'shared/followup.md': 'Again\n',
    'reg/prompts/compose.md': 'Hello\n',
    'reg/schemas/compose.json': '{ "type": "object", "properties": { "a": { "type": "string", "default": "z" } } }',
    'reg/switchyard.yaml': REGISTRY,
  })
  made.push(f)
  return { f, file: f.path('reg/switchyard.yaml') }
}

/** Every file a minute old: size and mtime are trusted without hashing. */
function age(f: Folder, ...names: string[]): void {
  const past = new Date(Date.now() - 60_000)
  for (const name of names) utimesSync(f.path(name), past, past)
}

/** The compiled registry's JSON, after its MAC line (issue 12.3). */
function compiledJson(file: string): Record<string, unknown> {
  return JSON.parse(readFileSync(file, 'utf8').replace(/^hmac-sha256:[0-9a-f]{64}\n/, '')) as Record<string, unknown>
}

/** Resolves once every path's ctime is more than the racy second (cache-freshness.ts) in the past. */
async function settled(...paths: string[]): Promise<void> {
  const last = Math.max(...paths.map((path) => statSync(path).ctimeMs))
  while (Date.now() <= last + 1000) await delay(Math.max(1, last + 1001 - Date.now()))
}

function builtAt(f: Folder): number {
  return compiledJson(f.path('reg/.switchyard/switchyard.yaml.compiled.json')).builtAt as number
}

const plain = (registry: Registry) => ({
  ...registry,
  pools: [...registry.pools],
  workflows: JSON.parse(JSON.stringify([...registry.workflows])) as unknown,
})

void describe('a registry loaded from its compiled form', () => {
  void it('is the registry a fresh compile gives: every field, resolved paths, order', () => {
    const { f, file } = make()
    const fresh = rebuildRegistry(file).registry
    assert.ok(fresh)
    const cached = loadRegistry(file)
    assert.notEqual(cached, fresh)
    assert.deepEqual(plain(cached), plain(fresh))
    assert.deepEqual(cached.workflows.get('email.followup')?.graph, {
      ref: './../wf/graph.ts',
      module: f.path('wf/graph.ts'),
      export: 'graph',
    })
    assert.equal(cached.workflows.get('email.followup')?.prompt, f.path('shared/followup.md'))
    assert.equal(cached.workflows.get('email.compose')?.prompt, f.path('reg/prompts/compose.md'))
    assert.equal(cached.pools.get('email')?.env, f.path('shared/email.env'))
    assert.deepEqual(cached.workflows.get('email.followup')?.output, { type: 'object' })
  })

  void it('names stamped files and folders by name in their folder: the registry folder is spelt out only where the Registry needs it', () => {
    const { f, file } = make()
    loadRegistry(file)
    const text = readFileSync(f.path('reg/.switchyard/switchyard.yaml.compiled.json'), 'utf8')
    const json = compiledJson(f.path('reg/.switchyard/switchyard.yaml.compiled.json'))
    assert.deepEqual(json.links, {}, 'no symlink on the way (else its path is spelt out too)')
    // Stamped: the registry file and schemas/compose.json; folders from / down to reg/schemas, wf and shared.
    assert.deepEqual((json.files as { name: string[] }).name, ['switchyard.yaml', 'compose.json'])
    // Source, root, and the email pool's env file (a field of the Pool it hydrates as is).
    assert.equal(text.split(f.dir).length - 1, 3, 'source, root and a pool env')
    // A changed schema is still seen through its joined path.
    f.write('reg/schemas/compose.json', '{ "type": "object", "required": ["b"] }')
    assert.throws(() => route(loadRegistry(file), { workflow: 'lead.classify', input: {} }), { code: 'INVALID_INPUT' })
  })

  void it('behaves as a ReadonlyMap of workflows, one object per workflow', () => {
    const { file } = make()
    loadRegistry(file)
    const { workflows } = loadRegistry(file)
    assert.equal(workflows.size, 3)
    assert.equal(workflows.has('lead.classify'), true)
    assert.equal(workflows.has('lead.classifi'), false)
    assert.equal(workflows.get('nope'), undefined)
    const compose = workflows.get('email.compose')
    assert.deepEqual([...workflows.keys()], ['email.compose', 'email.followup', 'lead.classify'])
    assert.equal([...workflows.values()][0], compose)
    assert.equal(new Map(workflows).get('email.compose'), compose)
    const seen: string[] = []
    workflows.forEach((workflow, name, map) => {
      assert.equal(map, workflows)
      seen.push(`${name}:${workflow.pool}:${workflow.timeoutMs}:${workflow.retries}`)
    })
    assert.deepEqual(seen, ['email.compose:email:30000:2', 'email.followup:email:30000:0', 'lead.classify:classify:5000:2'])
  })

  void it('routes as the fresh registry does', () => {
    const { file } = make()
    const fresh = rebuildRegistry(file).registry
    assert.ok(fresh)
    const cached = loadRegistry(file)
    for (const workflow of ['email.compose', 'lead.classify']) {
      assert.deepEqual(route(cached, { workflow, input: {}, now: 0 }), route(fresh, { workflow, input: {}, now: 0 }))
    }
    assert.equal(route(cached, { workflow: 'email.followup', input: { x: 1 } }).prompt, '../shared/followup.md')
    assert.throws(() => route(cached, { workflow: 'email.followup', input: {} }), { code: 'INVALID_INPUT' })
  })

  void it('hashes a file whose mtime moved once, then trusts its new stamp (no rebuild, no hash list needed)', async () => {
    const { f, file } = make()
    age(f, 'reg/switchyard.yaml', 'reg/schemas/compose.json')
    loadRegistry(file)
    const compiledAt = builtAt(f)
    // Same bytes, another mtime (a checkout, a `touch`): hashed, found equal, restamped
    // once its new ctime (set by the utimes itself) is past the racy second.
    const touched = new Date(Date.now() - 30_000)
    utimesSync(f.path('reg/schemas/compose.json'), touched, touched)
    await settled(f.path('reg/schemas/compose.json'))
    loadRegistry(file)
    assert.ok(builtAt(f) > compiledAt, 'restamped')
    const restampedAt = builtAt(f)
    rmSync(f.path('reg/.switchyard/hashes'), { recursive: true })
    const again = loadRegistry(file)
    assert.equal(builtAt(f), restampedAt, 'loaded from the compiled form by size and mtime alone')
    assert.equal(again.workflows.size, 3)
  })

  void it('rebuilds when a file must be hashed but its hash list is gone', () => {
    const { f, file } = make()
    age(f, 'reg/switchyard.yaml', 'reg/schemas/compose.json')
    const before = loadRegistry(file)
    rmSync(f.path('reg/.switchyard/hashes'), { recursive: true })
    // Same size, new bytes, the old mtime: only a hash could tell, and there is none.
    f.write('reg/schemas/compose.json', readFileSync(f.path('reg/schemas/compose.json'), 'utf8').replace('"z"', '"y"'))
    const stamp = new Date(Date.now() - 30_000)
    utimesSync(f.path('reg/schemas/compose.json'), stamp, stamp)
    const after = loadRegistry(file)
    assert.notEqual(after.digest, before.digest)
    assert.deepEqual(route(after, { workflow: 'email.compose', input: {} }).input, { a: 'y' })
  })

  void it('checks every graph module, prompt and env file at load, however old the compiled form', () => {
    const { f, file } = make()
    age(f, 'reg/switchyard.yaml', 'reg/schemas/compose.json')
    loadRegistry(file)
    rmSync(f.path('shared/followup.md'))
    assert.throws(() => loadRegistry(file), /prompt: file not found: \.\.\/shared\/followup\.md/)
  })

  void it('rebuilds a compiled form that claims the current format but has another shape', () => {
    const { f, file } = make()
    const digest = loadRegistry(file).digest
    const compiled = f.path('reg/.switchyard/switchyard.yaml.compiled.json')
    const json = compiledJson(compiled)
    const mac = readFileSync(compiled, 'utf8').split('\n')[0]
    // Its MAC line kept: an edit by hand is rebuilt whether or not it still matches.
    f.write(
      'reg/.switchyard/switchyard.yaml.compiled.json',
      `${mac}\n${JSON.stringify({ format: json.format, source: json.source, files: {} })}`,
    )
    assert.equal(loadRegistry(file).digest, digest)
    assert.deepEqual(Object.keys(compiledJson(compiled)), Object.keys(json))
  })
})
