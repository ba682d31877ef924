// The freshness rules of the compiled registry (cache-freshness.ts), each from a cache
// whose every stamp is trusted (files and folders a minute old, past the racy second),
// so only the rule under test can tell: a cache served stale fails each of them.
import assert from 'node:assert/strict'
import { cpSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { after, before, describe, it } from 'node:test'
import { loadRegistry, route, SwitchyardError, type Registry } from '../../../src/control/index.js'
import { verifiedCompiledSha256 } from '../../../src/control/tooling/index.js'
import { folder, lines, loadAndUse, problemsOf, type Folder } from '../fixture.js'

const FLOW = (name: string) => `  flow.${name}:
    pool: email
    graph: flows/${name}/graph.ts
    prompt: flows/${name}/prompt.md
    input: flows/${name}/input.schema.json
    description: ${name}
`
const REGISTRY = `version: 1
pools:
  email: { timeout: 30s, env: env/email.env }
workflows:
${FLOW('a')}${FLOW('b')}`

/** Same size for every name: only the bytes differ. */
const SCHEMA = (field: string) => `{ "type": "object", "required": ["${field}"] }`

/** A registry in reg/, and an outside/ folder beside it holding copies of its files. */
function make(): Folder {
  const files: Record<string, string> = { 'reg/switchyard.yaml': REGISTRY, 'reg/env/email.env': 'A=1\n' }
  for (const name of ['a', 'b']) {
    files[`reg/flows/${name}/graph.ts`] = 'export const graph = () => (input: unknown) => input\n'
    files[`reg/flows/${name}/prompt.md`] = `Hello from ${name}\n`
    files[`reg/flows/${name}/input.schema.json`] = SCHEMA(`${name}${name}`)
  }
  const f = folder(files)
  cpSync(f.path('reg/flows'), f.path('outside/flows'), { recursive: true, preserveTimestamps: true })
  return f
}

const A_MINUTE_AGO = new Date(Date.now() - 60_000)

/** Every file and folder a minute old, as a registry checked out a while ago. */
function age(f: Folder): void {
  for (const entry of readdirSync(f.dir, { withFileTypes: true, recursive: true }))
    utimesSync(join(entry.parentPath, entry.name), A_MINUTE_AGO, A_MINUTE_AGO)
  utimesSync(f.dir, A_MINUTE_AGO, A_MINUTE_AGO)
}

/** Resolves once every ctime under the folders is more than the racy second in the past. */
async function settled(...folders: Folder[]): Promise<void> {
  let last = 0
  for (const f of folders)
    for (const entry of readdirSync(f.dir, { withFileTypes: true, recursive: true }))
      last = Math.max(last, statSync(join(entry.parentPath, entry.name)).ctimeMs)
  while (Date.now() <= last + 1000) await delay(Math.max(1, last + 1001 - Date.now()))
}

const registryOf = (f: Folder) => f.path('reg/switchyard.yaml')
const compiledOf = (f: Folder) => f.path('reg/.switchyard/switchyard.yaml.compiled.json')

/** What route() asks of flow.<name>'s input, by the message for an empty input. */
function required(registry: Registry, name: string): string {
  try {
    route(registry, { workflow: `flow.${name}`, input: {} })
  } catch (error) {
    return (error as Error).message
  }
  return 'nothing'
}

// One registry per test, all made, aged and compiled before any test runs (one racy second to wait, not one each).
const cases = new Map<string, Folder>()
const TESTS = [
  'edit',
  'prompt-edit',
  'added',
  'removed',
  'removed-put-back',
  'schema-symlink',
  'prompt-symlink',
  'folder-symlink',
  'swapped',
  'renamed',
  'link-kept',
  'first-use-edit',
  'first-use-worker',
  'first-use-prepared',
  'first-use-broken',
  'first-use-yaml',
] as const
type Case = (typeof TESTS)[number]
const at = (name: Case): Folder => cases.get(name) ?? assert.fail(name)

before(async () => {
  for (const name of TESTS) cases.set(name, make())
  // Built with a symlink inside the registry: legitimate, checked at every load.
  const linked = at('link-kept')
  rmSync(linked.path('reg/flows/b/prompt.md'))
  symlinkSync('../a/prompt.md', linked.path('reg/flows/b/prompt.md'))
  for (const f of cases.values()) age(f)
  await settled(...cases.values())
  for (const f of cases.values()) {
    const registry = loadRegistry(registryOf(f))
    assert.match(required(registry, 'a'), /\/aa: is required/)
  }
})
after(() => {
  for (const f of cases.values()) f.remove()
})

void describe('the compiled registry is never served stale', () => {
  void it('sees a schema edited in place with its size kept and its mtime put back (ctime moved)', () => {
    const f = at('edit')
    writeFileSync(f.path('reg/flows/a/input.schema.json'), SCHEMA('zz'))
    utimesSync(f.path('reg/flows/a/input.schema.json'), A_MINUTE_AGO, A_MINUTE_AGO)
    assert.match(required(loadRegistry(registryOf(f)), 'a'), /\/zz: is required/)
  })

  void it('holds no prompt text: a prompt edited is read as it is now, and the cache stays valid', () => {
    const f = at('prompt-edit')
    const compiled = readFileSync(compiledOf(f), 'utf8')
    assert.ok(!compiled.includes('Hello from a'), 'no prompt text in the compiled form')
    writeFileSync(f.path('reg/flows/a/prompt.md'), 'Bonjour de a\n')
    const registry = loadRegistry(registryOf(f))
    assert.equal(readFileSync(registry.workflows.get('flow.a')?.prompt ?? '', 'utf8'), 'Bonjour de a\n')
    assert.match(required(registry, 'a'), /\/aa: is required/)
  })

  void it('serves the cache past a file added beside the ones it names, and sees one the registry names added', () => {
    const f = at('added')
    writeFileSync(f.path('reg/flows/a/notes.md'), 'unrelated\n')
    const compiled = readFileSync(compiledOf(f), 'utf8')
    loadRegistry(registryOf(f))
    assert.equal(readFileSync(compiledOf(f), 'utf8'), compiled, 'not rebuilt for an unrelated file')
    // The registry now names a prompt that is not there: refused, then found once added.
    writeFileSync(registryOf(f), REGISTRY.replace('prompt: flows/b/prompt.md', 'prompt: flows/b/other.md'))
    assert.deepEqual(lines(problemsOf(() => loadAndUse(registryOf(f)))), [
      "14:13 workflow 'flow.b' prompt: file not found: flows/b/other.md",
    ])
    writeFileSync(f.path('reg/flows/b/other.md'), 'Other\n')
    assert.equal(loadRegistry(registryOf(f)).workflows.get('flow.b')?.prompt, f.path('reg/flows/b/other.md'))
  })

  void it('sees a graph module, prompt and env file removed from folders it trusted', () => {
    const f = at('removed')
    for (const [path, problem] of [
      ['reg/flows/b/prompt.md', "14:13 workflow 'flow.b' prompt: file not found: flows/b/prompt.md"],
      ['reg/flows/a/graph.ts', "7:12 workflow 'flow.a' graph: file not found: flows/a/graph.ts"],
      ['reg/env/email.env', "3:31 pool 'email' env: file not found: env/email.env"],
    ] as const) {
      const bytes = readFileSync(f.path(path))
      rmSync(f.path(path))
      assert.deepEqual(lines(problemsOf(() => loadAndUse(registryOf(f)))), [problem])
      writeFileSync(f.path(path), bytes)
      loadRegistry(registryOf(f))
    }
  })

  void it("sees a prompt removed even when its folder's mtime is put back (ctime moved)", () => {
    const f = at('removed-put-back')
    rmSync(f.path('reg/flows/a/prompt.md'))
    utimesSync(f.path('reg/flows/a'), A_MINUTE_AGO, A_MINUTE_AGO)
    assert.deepEqual(lines(problemsOf(() => loadAndUse(registryOf(f)))), [
      "8:13 workflow 'flow.a' prompt: file not found: flows/a/prompt.md",
    ])
  })

  void it('sees a schema replaced by a symlink to the same bytes outside the registry', () => {
    const f = at('schema-symlink')
    rmSync(f.path('reg/flows/a/input.schema.json'))
    symlinkSync(f.path('outside/flows/a/input.schema.json'), f.path('reg/flows/a/input.schema.json'))
    assert.throws(() => loadAndUse(registryOf(f)), /flows\/a\/input\.schema\.json is outside the registry's folder/)
  })

  void it('sees a prompt replaced by a symlink outside the registry', () => {
    const f = at('prompt-symlink')
    rmSync(f.path('reg/flows/a/prompt.md'))
    symlinkSync(f.path('outside/flows/a/prompt.md'), f.path('reg/flows/a/prompt.md'))
    assert.throws(() => loadAndUse(registryOf(f)), /prompt: flows\/a\/prompt\.md is outside the registry's folder/)
  })

  void it('sees a folder replaced by a symlink to a copy outside the registry (same names, sizes and mtimes)', () => {
    const f = at('folder-symlink')
    renameSync(f.path('reg/flows'), f.path('reg-flows-away'))
    symlinkSync(f.path('outside/flows'), f.path('reg/flows'))
    assert.throws(() => loadAndUse(registryOf(f)), /is outside the registry's folder/)
  })

  void it('sees two workflow folders swapped by rename (each schema the same size and mtime as the other)', () => {
    const f = at('swapped')
    assert.equal(statSync(f.path('reg/flows/a/input.schema.json')).mtimeMs, statSync(f.path('reg/flows/b/input.schema.json')).mtimeMs)
    renameSync(f.path('reg/flows/a'), f.path('reg/flows/x'))
    renameSync(f.path('reg/flows/b'), f.path('reg/flows/a'))
    renameSync(f.path('reg/flows/x'), f.path('reg/flows/b'))
    const registry = loadRegistry(registryOf(f))
    assert.match(required(registry, 'a'), /\/bb: is required/)
    assert.match(required(registry, 'b'), /\/aa: is required/)
  })

  void it('sees a folder renamed away', () => {
    const f = at('renamed')
    renameSync(f.path('reg/flows/b'), f.path('reg/flows/b-old'))
    assert.throws(() => loadAndUse(registryOf(f)), /flow\.b' graph: file not found: flows\/b\/graph\.ts/)
  })

  void it('serves a symlink it was built with from the cache, and sees it retargeted outside', () => {
    const f = at('link-kept')
    const compiled = readFileSync(compiledOf(f), 'utf8')
    loadRegistry(registryOf(f))
    assert.equal(readFileSync(compiledOf(f), 'utf8'), compiled, 'not rebuilt while the link resolves where it did')
    // Retargeted by a folder on its target's way, not by the link itself (whose folder stays as it was).
    renameSync(f.path('reg/flows/a'), f.path('reg/flows-a-away'))
    symlinkSync(f.path('outside/flows/a'), f.path('reg/flows/a'))
    assert.throws(() => loadAndUse(registryOf(f)), /is outside the registry's folder/)
  })
})

/** The plan's digest and what route() asks of flow.<name>'s input. */
function routed(registry: Registry, name: string): { digest: string; required: string } {
  return {
    digest: route(registry, { workflow: `flow.${name}`, input: { [`${name}${name}`]: 1, zz: 1 } }).registry,
    required: required(registry, name),
  }
}

// A process loads the registry once and meets each workflow later (a gateway's first
// request for it): a workflow's own files are checked on that first use, not at load.
void describe('a workflow is checked against its files on first use, never served stale', () => {
  void it('serves a schema edited after the load as it is on disk, and the plan names the rebuilt registry', () => {
    const f = at('first-use-edit')
    const registry = loadRegistry(registryOf(f))
    const loaded = registry.digest
    writeFileSync(f.path('reg/flows/b/input.schema.json'), SCHEMA('zz'))
    utimesSync(f.path('reg/flows/b/input.schema.json'), A_MINUTE_AGO, A_MINUTE_AGO)
    assert.match(required(registry, 'b'), /\/zz: is required/)
    const plan = routed(registry, 'a')
    assert.notEqual(plan.digest, loaded, 'a rebuilt registry has its own digest')
    assert.equal(plan.digest, loadRegistry(registryOf(f), { check: 'load' }).digest)
    assert.match(plan.required, /\/aa: is required/)
  })

  void it('holds for a worker, which loads without the cache key and rebuilds without writing', () => {
    const f = at('first-use-worker')
    const compiled = readFileSync(compiledOf(f), 'utf8')
    // The cache as its supervisor verified it (else a worker does not read it at all).
    const registry = loadRegistry(registryOf(f), { cacheTrust: 'none', compiledSha256: verifiedCompiledSha256(registryOf(f))! })
    writeFileSync(f.path('reg/flows/a/input.schema.json'), SCHEMA('zz'))
    utimesSync(f.path('reg/flows/a/input.schema.json'), A_MINUTE_AGO, A_MINUTE_AGO)
    assert.deepEqual(registry.workflows.get('flow.a')?.input, JSON.parse(SCHEMA('zz')))
    assert.equal(readFileSync(compiledOf(f), 'utf8'), compiled, 'a worker writes nothing')
  })

  void it('prepares every workflow again from a rebuilt registry, so no plan mixes two versions', () => {
    const f = at('first-use-prepared')
    const registry = loadRegistry(registryOf(f))
    const first = routed(registry, 'a')
    assert.match(first.required, /\/aa: is required/)
    // flow.a changes after its first use, then flow.b's first use finds its own file changed.
    for (const name of ['a', 'b']) {
      writeFileSync(f.path(`reg/flows/${name}/input.schema.json`), SCHEMA('zz'))
      utimesSync(f.path(`reg/flows/${name}/input.schema.json`), A_MINUTE_AGO, A_MINUTE_AGO)
    }
    assert.match(required(registry, 'b'), /\/zz: is required/)
    const after = routed(registry, 'a')
    assert.notEqual(after.digest, first.digest)
    assert.match(after.required, /\/zz: is required/, "flow.a's plan comes from the registry its digest names")
  })

  void it('refuses a workflow whose file now points outside the registry, and keeps serving the others', () => {
    const f = at('first-use-broken')
    const registry = loadRegistry(registryOf(f))
    const digest = registry.digest
    rmSync(f.path('reg/flows/b/input.schema.json'))
    symlinkSync(f.path('outside/flows/b/input.schema.json'), f.path('reg/flows/b/input.schema.json'))
    for (let i = 0; i < 2; i++)
      assert.throws(() => routed(registry, 'b'), {
        code: 'REGISTRY_INVALID',
        message: /flows\/b\/input\.schema\.json is outside the registry's folder/,
      })
    assert.deepEqual(routed(registry, 'a'), { digest, required: "invalid input for 'flow.a': /aa: is required" })
    // A fresh load still loads (its workflows' files are checked on their use), unless it asks to check every one now.
    const fresh = loadRegistry(registryOf(f))
    assert.throws(() => routed(fresh, 'b'), /outside the registry's folder/)
    assert.throws(() => loadRegistry(registryOf(f), { check: 'load' }), /outside the registry's folder/)
  })

  void it('refuses to rebuild under a process when the registry file changed too: load it again', () => {
    const f = at('first-use-yaml')
    const registry = loadRegistry(registryOf(f))
    writeFileSync(registryOf(f), REGISTRY.replace('timeout: 30s', 'timeout: 31s'))
    writeFileSync(f.path('reg/flows/b/input.schema.json'), SCHEMA('zz'))
    utimesSync(f.path('reg/flows/b/input.schema.json'), A_MINUTE_AGO, A_MINUTE_AGO)
    assert.throws(
      () => routed(registry, 'b'),
      (error) => error instanceof SwitchyardError && error.code === 'REGISTRY_INVALID' && /changed since it was loaded/.test(error.message),
    )
    assert.match(routed(loadRegistry(registryOf(f)), 'b').required, /\/zz: is required/)
  })
})
