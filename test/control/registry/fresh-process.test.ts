// Importing switchyard-ai/control, loading a 1,000-workflow registry and routing
// once loads no queue client, LLM library, OTel SDK, graph module — nor the
// YAML parser, Ajv or TypeScript, which only a rebuild needs.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { pathToFileURL } from 'node:url'
import { buildControl, type BuiltControl } from '../../../bench/control-plane/build-control.js'
import { generateRegistry, typicalInput } from '../../../bench/control-plane/generate-registry.js'
import { loadRegistry } from '../../../src/control/index.js'
import { folder, type Folder } from '../fixture.js'

const HOOKS = `import { appendFileSync } from 'node:fs'
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context)
  appendFileSync(process.env.LOADED_LOG, result.url + '\\n')
  return result
}
`
const REGISTER = `import { register } from 'node:module'
register('./hooks.mjs', import.meta.url)
`
const CHILD = `import { createRequire } from 'node:module'
const { loadRegistry, route } = await import(process.argv[2])
const registry = loadRegistry(process.argv[3])
const plan = route(registry, { workflow: process.argv[5] ?? 'sales.flow-500', input: JSON.parse(process.argv[4]) })
const required = Object.keys(createRequire(import.meta.url).cache)
console.log(JSON.stringify({ workflows: registry.workflows.size, pool: plan.pool, required }))
`

const HEAVY = /node_modules\/(bullmq|ioredis|@langchain\/|ai\/|@ai-sdk\/|@opentelemetry\/sdk-|@opentelemetry\/exporter-)/
const COLD_PATH_ONLY = /node_modules\/(yaml|typescript)\/|node_modules\/ajv\/dist\/(ajv|2020|core|standalone|compile)/

let built: BuiltControl
let f: Folder
let registryFile: string

before(async () => {
  built = await buildControl()
  f = folder({ 'hooks.mjs': HOOKS, 'register.mjs': REGISTER, 'child.mjs': CHILD })
  registryFile = generateRegistry(join(f.dir, 'registry'), 1000)
  loadRegistry(registryFile) // writes the compiled form, as `switchyard check` would
})
after(() => {
  built.remove()
  f.remove()
})

void describe('a fresh process using switchyard-ai/control', () => {
  void it('loads 1,000 workflows and routes without loading anything heavy', () => {
    const log = f.path('loaded.log')
    writeFileSync(log, '')
    const out = execFileSync(
      process.execPath,
      [
        '--import',
        pathToFileURL(f.path('register.mjs')).href,
        f.path('child.mjs'),
        built.url,
        registryFile,
        JSON.stringify(typicalInput(500)),
      ],
      {
        env: { ...process.env, LOADED_LOG: log, NODE_OPTIONS: '' },
        encoding: 'utf8',
        timeout: 30_000,
      },
    )
    const result = JSON.parse(out) as { workflows: number; pool: string; required: string[] }
    assert.equal(result.workflows, 1000)
    assert.equal(result.pool, 'email')
    const imported = readFileSync(log, 'utf8').split('\n').filter(Boolean)
    const loaded = [...imported, ...result.required.map((p) => pathToFileURL(p).href)]
    assert.ok(loaded.includes(built.url), 'the hook saw switchyard-ai/control load')
    assert.deepEqual(
      loaded.filter((url) => HEAVY.test(url)),
      [],
    )
    assert.deepEqual(
      loaded.filter((url) => url.startsWith(pathToFileURL(join(f.dir, 'registry')).href)),
      [],
      'no graph module',
    )
    assert.deepEqual(
      loaded.filter((url) => COLD_PATH_ONLY.test(url)),
      [],
      'no yaml, Ajv compiler or TypeScript',
    )
    assert.deepEqual(
      loaded.filter((url) => /\/(registry-compiler|registry-structure|source-file)\.js$/.test(url)),
      [],
      'neither the compiler nor the structure check (which reads spec/registry.schema.json)',
    )
  })

  void it('compiles a registry it finds stale, in-process, from the built package', () => {
    const file = generateRegistry(join(f.dir, 'fresh'), 20)
    const out = execFileSync(process.execPath, [f.path('child.mjs'), built.url, file, JSON.stringify(typicalInput(7)), 'sales.flow-7'], {
      env: { ...process.env, NODE_OPTIONS: '' },
      encoding: 'utf8',
      timeout: 60_000,
    })
    const result = JSON.parse(out) as { workflows: number; required: string[] }
    assert.equal(result.workflows, 20)
    assert.ok(
      result.required.some((path) => path.includes('node_modules/yaml/')),
      'the rebuild used the YAML parser',
    )
    assert.ok(existsSync(join(f.dir, 'fresh', '.switchyard', 'switchyard.yaml.compiled.json')))
  })

  void it('compiles a stale registry in a child process where Node cannot require the compiler (forced here)', () => {
    const file = generateRegistry(join(f.dir, 'child'), 20)
    const env = { ...process.env, NODE_OPTIONS: '', SWITCHYARD_COMPILE_IN_CHILD: '1' }
    const run = (registry: string) =>
      execFileSync(process.execPath, [f.path('child.mjs'), built.url, registry, JSON.stringify(typicalInput(7)), 'sales.flow-7'], {
        env,
        encoding: 'utf8',
        timeout: 60_000,
      })
    const result = JSON.parse(run(file)) as { workflows: number; pool: string; required: string[] }
    assert.equal(result.workflows, 20)
    assert.equal(result.pool, 'discovery')
    assert.deepEqual(
      result.required.filter((path) => COLD_PATH_ONLY.test(pathToFileURL(path).href)),
      [],
      'the compiler ran in the child',
    )
    assert.ok(existsSync(join(f.dir, 'child', '.switchyard', 'switchyard.yaml.compiled.json')))
    // Problems come back located, as from an in-process compile.
    writeFileSync(file, readFileSync(file, 'utf8').replace('pool: email', 'pool: emial'))
    assert.throws(
      () =>
        execFileSync(process.execPath, [f.path('child.mjs'), built.url, file, '{}'], {
          env,
          encoding: 'utf8',
          timeout: 60_000,
          stdio: 'pipe',
        }),
      (error: { stderr: string }) =>
        error.stderr.includes(
          `RegistryError: registry is invalid (1 problem):\n  ${file}:10:11: workflow 'sales.flow-0': unknown pool 'emial' (did you mean 'email'?)\n`,
        ),
    )
  })

  void it('loads and routes where Node has no process.getBuiltinModule (before 20.16)', () => {
    const child = f.write('old-node.mjs', `delete process.getBuiltinModule\n${CHILD}`)
    const out = execFileSync(process.execPath, [child, built.url, registryFile, JSON.stringify(typicalInput(500))], {
      env: { ...process.env, NODE_OPTIONS: '' },
      encoding: 'utf8',
      timeout: 30_000,
    })
    const result = JSON.parse(out) as { workflows: number; pool: string }
    assert.deepEqual([result.workflows, result.pool], [1000, 'email'])
  })

  // A project outside this repository running switchyard from its sources under a
  // TypeScript loader: no `.js` file exists beside a `.ts` one there.
  for (const loader of ['tsx', 'tsx/esm']) {
    void it(`compiles a stale registry and routes from the sources under --import ${loader}, from outside the repository`, () => {
      const dir = join(f.dir, `outside-${loader.replace('/', '-')}`)
      const file = join(dir, 'switchyard.yaml')
      f.write(
        `outside-${loader.replace('/', '-')}/switchyard.yaml`,
        `version: 1
pools: { p: {} }
workflows:
  a.b:
    pool: p
    graph: g.ts#graph
    description: A pattern, so route() needs the linear-time pattern engine.
    input: { type: object, required: [code], properties: { code: { type: string, pattern: "^[A-Z]{2}$" } } }
`,
      )
      f.write(`outside-${loader.replace('/', '-')}/g.ts`, 'export const graph = () => null\n')
      const sources = pathToFileURL(join(import.meta.dirname, '../../../src/control/index.ts')).href
      const script = `const { loadRegistry, route } = await import(${JSON.stringify(sources)})
const registry = loadRegistry(${JSON.stringify(file)})
const plan = route(registry, { workflow: 'a.b', input: { code: 'DE' } })
let refused = ''
try { route(registry, { workflow: 'a.b', input: { code: 'Deutschland' } }) } catch (error) { refused = error.code }
console.log(JSON.stringify({ pool: plan.pool, refused }))
`
      const child = f.write(`outside-${loader.replace('/', '-')}/child.mjs`, script)
      const run = () =>
        JSON.parse(
          execFileSync(process.execPath, ['--import', import.meta.resolve(loader), child], {
            cwd: dir,
            env: { ...process.env, NODE_OPTIONS: '', SWITCHYARD_COMPILE_IN_CHILD: '' },
            encoding: 'utf8',
            timeout: 60_000,
          }),
        ) as { pool: string; refused: string }
      // First run: no compiled form yet, so the compiler runs; second run: the cached form.
      assert.deepEqual(run(), { pool: 'p', refused: 'INVALID_INPUT' })
      assert.ok(existsSync(join(dir, '.switchyard', 'switchyard.yaml.compiled.json')))
      assert.deepEqual(run(), { pool: 'p', refused: 'INVALID_INPUT' })
    })
  }
})
