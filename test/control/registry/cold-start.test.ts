// What a routing process pays at cold start beyond our own code: which of
// Node's built-in modules importing switchyard-ai/control, loading a fresh
// compiled registry and routing once make Node compile. Counted, not timed.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync, utimesSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { buildControl, type BuiltControl } from '../../../bench/control-plane/build-control.js'
import { generateRegistry, typicalInput } from '../../../bench/control-plane/generate-registry.js'
import { loadRegistry } from '../../../src/control/index.js'
import { folder, type Folder } from '../fixture.js'

// The built-in modules are listed before anything is printed: console.log
// itself loads streams.
const CHILD = `const { loadRegistry, route } = await import(process.argv[2])
const before = new Set(process.moduleLoadList)
const registry = loadRegistry(process.argv[3])
const plan = route(registry, { workflow: 'sales.flow-7', input: JSON.parse(process.argv[4]) })
const loaded = process.moduleLoadList
// Every CommonJS module required so far (require.cache is one for the whole process).
const { createRequire } = process.getBuiltinModule('node:module')
const required = Object.keys(createRequire(process.argv[1]).cache)
console.log(JSON.stringify({ pool: plan.pool, loaded, loadedByLoad: loaded.filter((name) => !before.has(name)), required }))
`

// What node:crypto alone makes Node load, used as the cache's MAC uses it.
const CRYPTO_CHILD = `const before = new Set(process.moduleLoadList)
const crypto = process.getBuiltinModule('node:crypto')
crypto.createHmac('sha256', crypto.randomBytes(32)).update('x').digest('hex')
crypto.timingSafeEqual(Buffer.from('a'), Buffer.from('a'))
crypto.createHash('sha256').update('x').digest('hex')
console.log(JSON.stringify(process.moduleLoadList.filter((name) => !before.has(name))))
`

let built: BuiltControl
let f: Folder
let registryFile: string

before(async () => {
  built = await buildControl()
  f = folder({ 'child.mjs': CHILD, 'crypto.mjs': CRYPTO_CHILD })
  registryFile = generateRegistry(join(f.dir, 'registry'), 20)
  // Edited a minute ago: old enough that size and mtime are trusted (no hashing).
  const past = new Date(Date.now() - 60_000)
  for (const entry of readdirSync(f.dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) utimesSync(join(entry.parentPath, entry.name), past, past)
  }
  loadRegistry(registryFile) // writes the compiled form, as `switchyard check` would
})
after(() => {
  built.remove()
  f.remove()
})

void describe('a routing process at cold start', () => {
  // node:crypto (and the stream module it needs) is the one built-in the cold path pays for: the
  // compiled registry's MAC and the validator's content id are checked before route() executes it
  // (issue 12.3; about 2.5 ms, bench/control-plane prints the cold start).
  void it('routes a string-bounded input without requiring anything from Ajv (route.ts answers its length helper)', () => {
    const out = execFileSync(process.execPath, [f.path('child.mjs'), built.url, registryFile, JSON.stringify(typicalInput(7))], {
      env: { ...process.env, NODE_OPTIONS: '' },
      encoding: 'utf8',
      timeout: 30_000,
    })
    const result = JSON.parse(out) as { pool: string; required: string[] }
    assert.equal(result.pool, 'discovery')
    const validator = readdirSync(join(f.dir, 'registry', '.switchyard', 'validators'))[0] ?? ''
    assert.match(
      readFileSync(join(f.dir, 'registry', '.switchyard', 'validators', validator), 'utf8'),
      /require\("ajv\/dist\/runtime\/ucs2length"\)/,
      'the validator bounds a string (else this proves nothing)',
    )
    assert.deepEqual(result.required, [])
  })

  void it("never makes Node load its file streams (import 'node:fs' would: bench/control-plane prints the cost)", () => {
    const out = execFileSync(process.execPath, [f.path('child.mjs'), built.url, registryFile, JSON.stringify(typicalInput(7))], {
      env: { ...process.env, NODE_OPTIONS: '' },
      encoding: 'utf8',
      timeout: 30_000,
    })
    const result = JSON.parse(out) as { pool: string; loaded: string[]; loadedByLoad: string[]; required: string[] }
    assert.equal(result.pool, 'discovery')
    assert.deepEqual(
      result.loaded.filter((name) => /^NativeModule internal\/fs\/streams$/.test(name)),
      [],
    )
    // A validator that needs another of Ajv's runtime helpers requires it (CommonJS, beside
    // src/control): the one loader module that takes is import.meta's, for createRequire.
    const crypto = new Set(
      JSON.parse(
        execFileSync(process.execPath, [f.path('crypto.mjs')], { env: { ...process.env, NODE_OPTIONS: '' }, encoding: 'utf8' }),
      ) as string[],
    )
    assert.ok(result.loadedByLoad.includes('NativeModule crypto'), 'the MAC is checked')
    assert.deepEqual(
      result.loadedByLoad.filter((name) => name !== 'NativeModule internal/modules/esm/initialize_import_meta' && !crypto.has(name)),
      [],
      'loading a fresh compiled registry and routing load no further built-in module than node:crypto does',
    )
  })
})
