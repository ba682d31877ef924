// dist/control/ as `npm run build` ships it: esbuild entry points sharing chunks
// (scripts/bundle-control.mjs). Other planes enter control through several doors
// (control/index.js, contract/, registry/, tooling/); each module must still exist
// once, or an error route() throws would not be `instanceof` the SwitchyardError a
// plane imports. Also: switchyard-ai/control resolves to the bundle, and the bundled
// loadRegistry() compiles by name and never serves a stale compiled registry; importing
// switchyard-ai/control loads 3 files, and the contract (the typed client's door) no built-in.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { pathToFileURL } from 'node:url'
import { generateRegistry, typicalInput } from '../../bench/control-plane/generate-registry.js'
// @ts-expect-error: a plain .mjs build script, no declarations
import { CONTROL_ENTRIES } from '../../scripts/bundle-control.mjs'
import { folder, type Folder } from './fixture.js'

const REPO = join(import.meta.dirname, '../..')
const DIST = join(REPO, 'dist')
const CONTROL = join(DIST, 'control')
const entries = new Set((CONTROL_ENTRIES as string[]).map((name) => `${name}.js`))

// Evaluated with the repository as cwd, so `switchyard-ai/control` resolves by the package's own
// exports (a self-reference). \`node -e code a b c\`: a is process.argv[1].
const CHILD = `const control = await import('switchyard-ai/control')
const dist = (path) => import(new URL(path, process.argv[1]).href)
const contract = await dist('contract/index.js')
const registry = await dist('registry/index.js')
const tooling = await dist('tooling/index.js')
const outcome = (fn) => { try { return { ok: fn() } } catch (error) { return { error } } }
const loaded = outcome(() => control.loadRegistry(process.argv[2], process.argv[4] ? { check: process.argv[4] } : undefined))
const describe = ({ ok, error }) => ok !== undefined ? { ok: true } : {
  code: error.code,
  switchyard: error instanceof contract.SwitchyardError,
  registry: error instanceof contract.RegistryError,
  unknown: error instanceof contract.UnknownWorkflowError,
  invalid: error instanceof contract.InvalidInputError,
}
const result = { resolved: import.meta.resolve('switchyard-ai/control'), load: describe(loaded) }
if (loaded.ok) {
  const input = JSON.parse(process.argv[3])
  result.route = describe(outcome(() => control.route(loaded.ok, { workflow: 'sales.flow-1', input })))
  result.unknown = describe(outcome(() => control.route(loaded.ok, { workflow: 'sales.nope', input })))
}
result.same = {
  errorClass: control.SwitchyardError === contract.SwitchyardError,
  refusals: control.cacheRefusals === registry.cacheRefusals,
  keys: tooling.REGISTRY_KEYS === registry.REGISTRY_KEYS,
}
console.log(JSON.stringify(result))
`

interface Outcome {
  ok?: true
  code?: string
  switchyard?: boolean
  registry?: boolean
  unknown?: boolean
  invalid?: boolean
}
interface ChildResult {
  resolved: string
  load: Outcome
  route?: Outcome
  unknown?: Outcome
  same: Record<string, boolean>
}

let f: Folder
let registryFile: string

before(() => {
  assert.ok(existsSync(join(CONTROL, 'index.js')), 'dist/ is missing: run npm run build first')
  f = folder()
  registryFile = generateRegistry(join(f.dir, 'registry'), 3)
})
after(() => f.remove())

/** `check`: loadRegistry's option of that name. */
function child(check?: 'load'): ChildResult {
  const out = execFileSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      CHILD,
      `${pathToFileURL(CONTROL).href}/`,
      registryFile,
      JSON.stringify(typicalInput(1)),
      ...(check ? [check] : []),
    ],
    { cwd: REPO, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } },
  )
  return JSON.parse(out) as ChildResult
}

/** Relative specifiers of a built file (static and dynamic imports). */
function specifiers(file: string): string[] {
  const text = readFileSync(file, 'utf8')
  return [...text.matchAll(/(?:from\s*|import\(\s*)["'](\.{1,2}\/[^"']+)["']/g)].map((m) => m[1] ?? '')
}

/** Every built file an import of `entry` loads (relative imports, followed). */
function reachable(entry: string, into = new Set<string>()): Set<string> {
  if (into.has(entry)) return into
  into.add(entry)
  for (const specifier of specifiers(entry)) reachable(resolve(dirname(entry), specifier), into)
  return into
}

void describe('dist/control as built', () => {
  void it('holds only the bundle entry points and their shared chunks', () => {
    const js = readdirSync(CONTROL, { recursive: true, encoding: 'utf8' }).filter((name) => name.endsWith('.js'))
    const strays = js.filter((name) => !entries.has(name) && !/^registry\/chunk-[A-Z0-9]+\.js$/.test(name))
    assert.deepEqual(strays, [], 'a module outside the bundle could be imported beside it, a second copy')
    for (const name of entries) assert.ok(js.includes(name), `${name} was not built`)
  })

  void it('loads switchyard-ai/control as 3 files: index.js, the routing path as one chunk, and the contract free of Node built-ins', () => {
    const names = [...reachable(join(CONTROL, 'index.js'))].map((file) => relative(CONTROL, file))
    assert.equal(names.length, 3, `an import of switchyard-ai/control loads ${names.join(', ')}`)
    // The typed client enters control through contract/, in browsers too.
    const contract = reachable(join(CONTROL, 'contract', 'index.js'))
    assert.equal(contract.size, 2, 'contract/index.js and its one chunk')
    for (const file of contract)
      assert.doesNotMatch(readFileSync(file, 'utf8'), /from\s*["']node:|require\(|import\(/, relative(CONTROL, file))
  })

  void it('is entered from every other plane only through a bundle entry point', () => {
    const offenders: string[] = []
    let imports = 0
    for (const name of readdirSync(DIST, { recursive: true, encoding: 'utf8' })) {
      const file = join(DIST, name)
      if (!name.endsWith('.js') || file.startsWith(`${CONTROL}/`)) continue
      for (const specifier of specifiers(file)) {
        const target = relative(CONTROL, resolve(dirname(file), specifier))
        if (target.startsWith('..')) continue
        imports++
        if (!entries.has(target)) offenders.push(`${name} → ${specifier}`)
      }
    }
    assert.ok(imports > 50, `found only ${imports} imports of control in dist/: is the scan broken?`)
    assert.deepEqual(offenders, [])
  })

  void it('has one copy of each class and state whichever door a plane takes; switchyard-ai/control is the bundle', () => {
    const result = child()
    assert.equal(result.resolved, pathToFileURL(join(CONTROL, 'index.js')).href)
    assert.deepEqual(result.same, { errorClass: true, refusals: true, keys: true })
    // Compiled in-process on first load (the compiler required by name beside the chunks).
    assert.deepEqual(result.load, { ok: true })
    assert.deepEqual(result.route, { ok: true })
    assert.deepEqual(result.unknown, { code: 'UNKNOWN_WORKFLOW', switchyard: true, registry: false, unknown: true, invalid: false })
  })

  void it('sees a changed schema and a removed prompt, never the stale compiled form', () => {
    assert.deepEqual(child().route, { ok: true }, 'cached load routes')
    const schema = join(dirname(registryFile), 'workflows', 'flow-1', 'input.schema.json')
    writeFileSync(schema, JSON.stringify({ type: 'object', required: ['added'], properties: { added: { type: 'string' } } }))
    assert.deepEqual(child().route, { code: 'INVALID_INPUT', switchyard: true, registry: false, unknown: false, invalid: true })
    rmSync(join(dirname(registryFile), 'workflows', 'flow-1', 'prompt.md'))
    // Checked on the workflow's first use, or at load when asked to check every workflow then.
    const lazy = child()
    assert.deepEqual(lazy.load, { ok: true })
    assert.deepEqual(lazy.route, { code: 'REGISTRY_INVALID', switchyard: true, registry: true, unknown: false, invalid: false })
    assert.deepEqual(child('load').load, { code: 'REGISTRY_INVALID', switchyard: true, registry: true, unknown: false, invalid: false })
  })
})
