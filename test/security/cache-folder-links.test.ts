// Review 3: whoever may write `.switchyard/` (not the registry file) planted symlinks there
// that steered the operator's process: `schemas` or `hashes` linked to another folder had a
// rebuild delete every file there older than a day, and a link under the resolved registry's
// temp name (`<file>.resolved.json.<pid>.tmp`) had it written through into any file. Now the
// cache's sub-folders are never followed and its temp files are random and created exclusively
// (cache-files.ts); the victims are untouched and the cache still works.
import assert from 'node:assert/strict'
import { lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'

import { cacheRefusals, loadRegistry, rebuildRegistry, route } from '../../src/control/index.js'
import { resolvedRegistryPath, writeResolvedRegistry } from '../../src/control/tooling/index.js'
import { folder, type Folder } from '../control/fixture.js'

const REGISTRY = `version: 1
pools:
  email: { timeout: 30s }
workflows:
  email.compose:
    pool: email
    graph: wf/graph.ts
    input: { type: object, required: [to] }
    description: d
`

const made: Folder[] = []
after(() => made.forEach((f) => f.remove()))

/** A registry folder whose cache the operator's process (this one) has written, and a victim folder beside it. */
function site(): { f: Folder; source: string; victim: string } {
  const f = folder({ 'switchyard.yaml': REGISTRY })
  made.push(f)
  const source = f.path('switchyard.yaml')
  loadRegistry(source)
  const victim = f.path('victim')
  mkdirSync(victim)
  return { f, source, victim }
}

/** Files three days old (past the cache's 24 h), one named as a schema table would be. */
function precious(dir: string): Record<string, string> {
  const files: Record<string, string> = { 'a.conf': 'precious a', [`${'ab'.repeat(32)}.json`]: 'precious b' }
  const old = new Date(Date.now() - 3 * 86_400_000)
  for (const [name, text] of Object.entries(files)) {
    writeFileSync(join(dir, name), text)
    utimesSync(join(dir, name), old, old)
  }
  return files
}

function contents(dir: string): Record<string, string> {
  return Object.fromEntries(readdirSync(dir).map((name) => [name, readFileSync(join(dir, name), 'utf8')]))
}

void describe("what is planted in the cache folder never steers the operator's process", () => {
  for (const sub of ['schemas', 'hashes', 'validators']) {
    void it(`.switchyard/${sub} linked to another folder: a rebuild neither deletes nor writes there`, () => {
      const { f, source, victim } = site()
      const files = precious(victim)
      const link = f.path(`.switchyard/${sub}`)
      rmSync(link, { recursive: true })
      symlinkSync(victim, link)
      const before = cacheRefusals().get('folder') ?? 0

      assert.ok(rebuildRegistry(source).registry)

      assert.deepEqual(contents(victim), files)
      assert.ok(lstatSync(link).isDirectory(), 'made again as a folder of its own')
      assert.equal(cacheRefusals().get('folder'), before + 1)
      // The cache works afterwards: a fresh load routes, validating input.
      const registry = loadRegistry(source)
      assert.equal(route(registry, { workflow: 'email.compose', input: { to: 'x' } }).pool, 'email')
      assert.throws(() => route(registry, { workflow: 'email.compose', input: {} }), { code: 'INVALID_INPUT' })
    })
  }

  void it("a rebuild sweeps only the cache's own old files from its folders", () => {
    const { f, source } = site()
    const schemas = f.path('.switchyard/schemas')
    const [current] = readdirSync(schemas)
    const old = precious(schemas)
    const stale = `${'cd'.repeat(32)}.json`
    writeFileSync(join(schemas, `${stale}.1234.tmp`), 'a temp file left by a crash')
    utimesSync(join(schemas, `${stale}.1234.tmp`), new Date(0), new Date(0))

    assert.ok(rebuildRegistry(source).registry)

    // Old files named as the cache names its tables (and their temp files) go; anything else stays.
    assert.deepEqual(readdirSync(schemas).sort(), [current, 'a.conf'].sort())
    assert.equal(readFileSync(join(schemas, 'a.conf'), 'utf8'), old['a.conf'])
  })

  void it("a link under the resolved registry's old temp name is not written through", () => {
    const { f, source } = site()
    const victim = f.write('victim.conf', "operator's precious file\n")
    const file = resolvedRegistryPath(source)
    for (const pid of [process.pid, process.pid + 1]) symlinkSync(victim, `${file}.${pid}.tmp`)

    assert.equal(writeResolvedRegistry(loadRegistry(source)).file, file)

    assert.equal(readFileSync(victim, 'utf8'), "operator's precious file\n")
    assert.ok(lstatSync(file).isFile())
    assert.equal((JSON.parse(readFileSync(file, 'utf8')) as { source: string }).source, source)
  })
})
