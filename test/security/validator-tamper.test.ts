// Issue 12.3: code planted by a graph ran in the gateway. route() executes the input
// validators compiled into `.switchyard/validators/*.cjs`, and a worker (graph code of any
// pool, in the same folder) could overwrite one, or edit the compiled registry to name one
// of its own. Now the compiled registry carries an HMAC under `.switchyard/cache.key` and
// names each validator by its content hash: whatever a worker writes there is refused
// (counted), never executed, and rebuilt from the schema. Attacked here in-process (each
// tamper on its own) and through a real `switchyard dev` whose own graph plants the code.
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'

import { CACHE_KEY_FILE, InvalidInputError, cacheRefusals, loadRegistry, route, type CacheRefusal } from '../../src/control/index.js'
import { verifiedCompiledSha256 } from '../../src/control/tooling/index.js'
import { spawnDev } from '../cli/dev-process.js'
import { eventually } from '../helpers/eventually.js'

const REGISTRY = `version: 1
pools:
  work: { timeout: 20s, retries: 0 }
workflows:
  work.strict:
    pool: work
    graph: graphs/work.mjs#echo
    description: Needs a name.
    input: { type: object, required: [name], properties: { name: { type: string } }, additionalProperties: false }
  work.loose:
    pool: work
    graph: graphs/work.mjs#echo
    description: Takes anything.
    input: { type: object }
`

/** Validator code that does what an attacker wants: leaves a marker file, sets a global, accepts anything. */
function planted(marker: string): string {
  return `process.getBuiltinModule('node:fs').writeFileSync(${JSON.stringify(marker)}, 'ran in ' + process.pid)
globalThis.__switchyardPlanted = true
module.exports = Object.assign(function validate() { return true }, { errors: null })
`
}

/** The id the compiled registry names a validator by: the first 32 hex digits of its code's SHA-256. */
function contentId(code: string): string {
  return createHash('sha256').update(code).digest('hex').slice(0, 32)
}

const made: string[] = []
after(() => made.forEach((dir) => rmSync(dir, { recursive: true, force: true })))

interface Site {
  readonly dir: string
  readonly file: string
  readonly compiled: string
  readonly validators: string
  readonly marker: string
}

/** A new folder with the registry and its graph module. */
function registryFolder(registry = REGISTRY, graphs = 'export function echo() { return (input) => input }\n'): string {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-tamper-'))
  made.push(dir)
  writeFileSync(join(dir, 'switchyard.yaml'), registry)
  mkdirSync(join(dir, 'graphs'))
  writeFileSync(join(dir, 'graphs', 'work.mjs'), graphs.replaceAll('__DIR__', dir))
  return dir
}

/** A registry folder whose cache the operator's process (this one, holding the key) has written. */
function site(): Site {
  const dir = registryFolder()
  const file = join(dir, 'switchyard.yaml')
  loadRegistry(file)
  return {
    dir,
    file,
    compiled: join(dir, '.switchyard', 'switchyard.yaml.compiled.json'),
    validators: join(dir, '.switchyard', 'validators'),
    marker: join(dir, 'planted-code-ran'),
  }
}

/** The compiled registry's MAC line and JSON. */
function readCompiled(s: Site): { mac: string; json: { workflows: { name: string[]; validator: string[] } } } {
  const text = readFileSync(s.compiled, 'utf8')
  const newline = text.indexOf('\n')
  return { mac: text.slice(0, newline), json: JSON.parse(text.slice(newline + 1)) as never }
}

function validatorId(s: Site, workflow: string): string {
  const { json } = readCompiled(s)
  const id = json.workflows.validator[json.workflows.name.indexOf(workflow)]
  assert.ok(id, `${workflow} has a validator`)
  return id
}

function refusals(reason: CacheRefusal): number {
  return cacheRefusals().get(reason) ?? 0
}

/** Validation still works: the strict workflow refuses what its schema refuses, and takes what it allows. */
function assertStillValidates(s: Site): void {
  const registry = loadRegistry(s.file)
  assert.throws(
    () => route(registry, { workflow: 'work.strict', input: { nope: 1 } }),
    (error: unknown) => {
      assert.ok(error instanceof InvalidInputError)
      assert.match(error.message, /\/name: is required/)
      return true
    },
  )
  assert.equal(route(registry, { workflow: 'work.strict', input: { name: 'Ada' } }).workflow, 'work.strict')
}

function assertNeverRan(s: Site): void {
  assert.equal(existsSync(s.marker), false, 'the planted code never ran')
  assert.equal((globalThis as { __switchyardPlanted?: unknown }).__switchyardPlanted, undefined)
}

void describe('code a worker plants in the compiled registry cache never runs in the routing process', () => {
  void it('is written with a MAC under a key file only its owner can read', () => {
    const s = site()
    assert.match(readCompiled(s).mac, /^hmac-sha256:[0-9a-f]{64}$/)
    const key = statSync(join(s.dir, '.switchyard', CACHE_KEY_FILE))
    assert.equal(key.mode & 0o777, 0o600)
    assert.equal(key.uid, process.getuid?.())
  })

  void it('refuses a validator file whose code was replaced, validates from the schema, and puts the code back', () => {
    const s = site()
    const id = validatorId(s, 'work.strict')
    const file = join(s.validators, `${id}.cjs`)
    const genuine = readFileSync(file, 'utf8')
    writeFileSync(file, planted(s.marker))
    const before = refusals('validator')
    assertStillValidates(s)
    assertNeverRan(s)
    assert.equal(refusals('validator'), before + 1)
    assert.equal(readFileSync(file, 'utf8'), genuine, 'the cache holds the compiled code again')
  })

  void it('refuses a compiled registry edited to name a validator of the attacker (a matching content id, the old MAC)', () => {
    const s = site()
    const code = planted(s.marker)
    writeFileSync(join(s.validators, `${contentId(code)}.cjs`), code)
    const { mac, json } = readCompiled(s)
    json.workflows.validator = json.workflows.validator.map(() => contentId(code))
    writeFileSync(s.compiled, `${mac}\n${JSON.stringify(json)}`)
    const before = refusals('mac')
    assertStillValidates(s)
    assertNeverRan(s)
    assert.equal(refusals('mac'), before + 1)
    assert.notEqual(validatorId(s, 'work.strict'), contentId(code), 'the compiled registry was rebuilt')
  })

  void it('refuses a compiled registry whose MAC was deleted (and one naming another workflow’s validator)', () => {
    const s = site()
    const { json } = readCompiled(s)
    // The loose workflow's genuine validator, named for the strict one: no code of the attacker's, but not the schema.
    const loose = validatorId(s, 'work.loose')
    json.workflows.validator = json.workflows.validator.map(() => loose)
    writeFileSync(s.compiled, JSON.stringify(json))
    const before = refusals('unsigned')
    assertStillValidates(s)
    assert.equal(refusals('unsigned'), before + 1)
    assert.match(readCompiled(s).mac, /^hmac-sha256:[0-9a-f]{64}$/, 'rewritten with its MAC')
    // Loaded again: the rewritten cache is trusted, nothing more refused.
    assertStillValidates(s)
    assert.equal(refusals('unsigned'), before + 1)
  })

  void it('refuses a schema table that is not the one the compiled registry names', () => {
    const s = site()
    const schemas = join(s.dir, '.switchyard', 'schemas')
    const [table] = readdirSync(schemas)
    assert.ok(table)
    // Both: a validator that must be rebuilt, from a schema table that lets everything through.
    writeFileSync(join(s.validators, `${validatorId(s, 'work.strict')}.cjs`), planted(s.marker))
    writeFileSync(
      join(schemas, table),
      JSON.stringify({ 'work.strict': { input: true, output: null }, 'work.loose': { input: true, output: null } }),
    )
    const before = refusals('schemas')
    assertStillValidates(s)
    assertNeverRan(s)
    assert.equal(refusals('schemas'), before + 1)
  })

  void it('does not use a key file that others may read, or that another user owns', () => {
    for (const spoil of ['mode', 'owner'] as const) {
      if (spoil === 'owner' && process.getuid?.() !== 0) continue // only root can give a file away
      const dir = registryFolder()
      // A key planted before the operator's first load: the attacker knows it.
      const key = join(dir, '.switchyard', CACHE_KEY_FILE)
      mkdirSync(join(dir, '.switchyard'))
      writeFileSync(key, 'ab'.repeat(32), { mode: 0o600 })
      if (spoil === 'mode') chmodSync(key, 0o644)
      else chownSync(key, 65534, 65534)
      const before = refusals('key')
      const s = { dir, file: join(dir, 'switchyard.yaml'), marker: join(dir, 'planted-code-ran') } as Site
      assertStillValidates(s)
      assert.equal(refusals('key'), before + 1, spoil)
      assert.equal(
        existsSync(join(dir, '.switchyard', 'switchyard.yaml.compiled.json')),
        false,
        'nothing written under a key the attacker knows',
      )
    }
  })

  void it('a worker (cacheTrust none) reads no key, writes nothing and executes no cached code', () => {
    const s = site()
    rmSync(join(s.dir, '.switchyard', CACHE_KEY_FILE))
    writeFileSync(join(s.validators, `${validatorId(s, 'work.strict')}.cjs`), planted(s.marker))
    const compiledBefore = readFileSync(s.compiled, 'utf8')
    const registry = loadRegistry(s.file, { cacheTrust: 'none' })
    assert.throws(() => route(registry, { workflow: 'work.strict', input: {} }), InvalidInputError)
    assertNeverRan(s)
    assert.equal(existsSync(join(s.dir, '.switchyard', CACHE_KEY_FILE)), false)
    assert.equal(readFileSync(s.compiled, 'utf8'), compiledBefore)
  })
})

/** The compiled registry with every workflow's graph module pointed at `module` (written over it, the MAC kept). */
function pointGraphsAt(s: Pick<Site, 'compiled'>, ref: string): void {
  const text = readFileSync(s.compiled, 'utf8')
  const newline = text.indexOf('\n')
  const json = JSON.parse(text.slice(newline + 1)) as { workflows: { graph: string[] } }
  json.workflows.graph = json.workflows.graph.map(() => ref)
  writeFileSync(s.compiled, `${text.slice(0, newline)}\n${JSON.stringify(json)}`)
}

function sha256Of(file: string): string {
  return `sha256:${createHash('sha256').update(readFileSync(file, 'utf8')).digest('hex')}`
}

void describe("a pool's worker (cacheTrust none) runs no graph module an unsigned cache names", () => {
  void it('reads the compiled registry only when it hashes to the digest its supervisor verified under the key', () => {
    const s = site()
    writeFileSync(join(s.dir, 'graphs', 'other.mjs'), 'export function echo() { return () => ({ other: true }) }\n')
    const genuine = verifiedCompiledSha256(s.file)
    assert.equal(genuine, sha256Of(s.compiled), 'the supervisor vouches for the text it verified')
    const real = join(s.dir, 'graphs', 'work.mjs')
    const moduleOf = (options: Parameters<typeof loadRegistry>[1]) =>
      loadRegistry(s.file, options).workflows.get('work.loose')?.graph.module

    // The attacker (who may write .switchyard/, not switchyard.yaml) points the graphs at a module of its own.
    writeFileSync(join(s.dir, 'evil.mjs'), 'export function echo() { return () => ({ planted: true }) }\n')
    pointGraphsAt(s, '../evil.mjs#echo')
    const tampered = readFileSync(s.compiled, 'utf8')
    assert.equal(verifiedCompiledSha256(s.file), null, 'its MAC no longer matches: the supervisor vouches for nothing')
    // Started alone (no digest): compiled from switchyard.yaml; with the digest of the genuine text: the same.
    assert.equal(moduleOf({ cacheTrust: 'none' }), real)
    assert.equal(moduleOf({ cacheTrust: 'none', compiledSha256: genuine! }), real)
    assert.equal(readFileSync(s.compiled, 'utf8'), tampered, 'a worker writes nothing')

    // A digest is what decides: a text it names is read as it stands (here one naming another module of the folder).
    pointGraphsAt(s, 'graphs/other.mjs#echo')
    assert.equal(moduleOf({ cacheTrust: 'none', compiledSha256: sha256Of(s.compiled) }), join(s.dir, 'graphs', 'other.mjs'))
    assert.equal(moduleOf({ cacheTrust: 'none' }), real)
  })
})

// ---- through a real gateway, the code planted by a real graph ----

/** A graph that, when run, plants code over every cached validator and edits the compiled registry to name its own. */
function plantingGraph(marker: string): string {
  const code = planted(marker)
  return `import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createHash } from 'node:crypto'
import { join } from 'node:path'
const CODE = ${JSON.stringify(code)}
export function echo() { return (input) => input }
export function plant() {
  return () => {
    const cache = join(${JSON.stringify('__DIR__')}, '.switchyard')
    const validators = join(cache, 'validators')
    for (const name of readdirSync(validators)) if (name.endsWith('.cjs')) writeFileSync(join(validators, name), CODE)
    const id = createHash('sha256').update(CODE).digest('hex').slice(0, 32)
    writeFileSync(join(validators, id + '.cjs'), CODE)
    const compiled = join(cache, 'switchyard.yaml.compiled.json')
    const text = readFileSync(compiled, 'utf8')
    const newline = text.indexOf('\\n')
    const json = JSON.parse(text.slice(newline + 1))
    json.workflows.validator = json.workflows.validator.map(() => id)
    writeFileSync(compiled, text.slice(0, newline + 1) + JSON.stringify(json))
    return { planted: readdirSync(validators).length }
  }
}
`
}

async function post(url: string, workflow: string, input: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${url}/v1/workflows/${workflow}/run`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(input),
    signal: AbortSignal.timeout(30_000),
  })
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}

async function refusedOnMetrics(url: string, reason: CacheRefusal): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text()
  const line = new RegExp(`^switchyard_registry_cache_refused_total\\{reason="${reason}"\\} (\\d+)$`, 'm').exec(text)
  return Number(line?.[1] ?? 0)
}

void describe('a graph that plants code in the cache, through switchyard dev', () => {
  void it('never gets it run by the gateway: refused (metric and warning), validated from the schema, before and after a restart', async () => {
    const dir = registryFolder(
      `${REGISTRY}  work.plant:
    pool: work
    graph: graphs/work.mjs#plant
    description: Plants code in the cache.
    input: { type: object }
`,
      plantingGraph(join(tmpdir(), 'unused')),
    )
    const marker = join(dir, 'planted-code-ran')
    writeFileSync(join(dir, 'graphs', 'work.mjs'), plantingGraph(marker).replaceAll('__DIR__', dir))
    const env = {
      SWITCHYARD_SIGNING_KEY: '',
      SWITCHYARD_TOKENS: '',
      OTEL_EXPORTER_OTLP_ENDPOINT: '',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: '',
    }
    const start = async () => {
      const dev = spawnDev(['--config', join(dir, 'switchyard.yaml'), '--port', '0'], dir, env)
      const url = await eventually('the gateway URL', () => /gateway (http:\/\/[\d.:]+)/.exec(dev.text)?.[1], 60_000)
      await eventually('a live worker', async () => (await fetch(`${url}/readyz`)).status === 200, 60_000)
      return { dev, url }
    }

    // The operator's `switchyard check`: the gateway below loads this cache, its validators on first use.
    loadRegistry(join(dir, 'switchyard.yaml'))
    // Session 1: the graph plants while the gateway runs; work.strict's validator is first read after that.
    let { dev, url } = await start()
    try {
      const plant = await post(url, 'work.plant', {})
      assert.equal(plant.status, 200, JSON.stringify(plant.body))
      const bad = await post(url, 'work.strict', { nope: 1 })
      assert.equal(bad.status, 422, JSON.stringify(bad.body))
      assert.equal(bad.body.code, 'INVALID_INPUT')
      assert.equal((await post(url, 'work.strict', { name: 'Ada' })).status, 200)
      assert.equal(existsSync(marker), false, 'the planted code never ran in the gateway')
      assert.ok((await refusedOnMetrics(url, 'validator')) >= 1)
      assert.match(dev.text, /SWITCHYARD_CACHE_REFUSED.*\(validator\)/)
    } finally {
      await dev.stop()
    }

    // Session 2: a new gateway loads the compiled registry the graph edited (the old MAC kept).
    ;({ dev, url } = await start())
    try {
      assert.ok((await refusedOnMetrics(url, 'mac')) >= 1)
      assert.match(dev.text, /SWITCHYARD_CACHE_REFUSED.*\(mac\)/)
      const bad = await post(url, 'work.loose', [])
      assert.equal(bad.status, 422, JSON.stringify(bad.body))
      assert.equal((await post(url, 'work.strict', {})).status, 422)
      assert.equal(existsSync(marker), false, 'the planted code never ran in the gateway')
    } finally {
      await dev.stop()
    }
  })
})

void describe('a compiled registry pointed at a planted graph module, through switchyard dev', () => {
  void it("is not what the pool's next worker runs: its supervisor vouches only for the text it verified under the key", async () => {
    const dir = registryFolder()
    const marker = join(dir, 'planted-graph-ran')
    writeFileSync(
      join(dir, 'evil.mjs'),
      `import { writeFileSync } from 'node:fs'\nexport function echo() { writeFileSync(${JSON.stringify(marker)}, 'x'); return () => ({ planted: true }) }\n`,
    )
    const env = {
      SWITCHYARD_SIGNING_KEY: '',
      SWITCHYARD_TOKENS: '',
      OTEL_EXPORTER_OTLP_ENDPOINT: '',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: '',
    }
    const dev = spawnDev(['--config', join(dir, 'switchyard.yaml'), '--port', '0'], dir, env)
    const pids = () => [...dev.text.matchAll(/switchyard worker: pool work, pid (\d+)/g)].map((m) => Number(m[1]))
    try {
      const url = await eventually('the gateway URL', () => /gateway (http:\/\/[\d.:]+)/.exec(dev.text)?.[1], 60_000)
      await eventually('a live worker', async () => (await fetch(`${url}/readyz`)).status === 200, 60_000)
      const first = await eventually('its pid', () => pids()[0], 30_000)
      const compiled = join(dir, '.switchyard', 'switchyard.yaml.compiled.json')
      // The worker was given the digest of the verified cache (so it starts from it, not by compiling).
      const environ = readFileSync(`/proc/${first}/environ`, 'utf8').split('\0')
      assert.ok(environ.includes(`SWITCHYARD_COMPILED_SHA256=${sha256Of(compiled)}`), environ.join(' '))
      assert.deepEqual((await post(url, 'work.loose', { x: 1 })).body, { x: 1 })

      // Someone who may write .switchyard/ (not switchyard.yaml) points the graphs at a module of theirs; the worker restarts.
      pointGraphsAt({ compiled }, 'evil.mjs#echo')
      process.kill(first, 'SIGKILL')
      const next = await eventually('a new worker', () => pids().find((pid) => pid !== first), 60_000)
      await eventually('it serves', async () => (await fetch(`${url}/readyz`)).status === 200, 60_000)
      const environ2 = readFileSync(`/proc/${next}/environ`, 'utf8')
      assert.doesNotMatch(environ2, /SWITCHYARD_COMPILED_SHA256/, 'no digest for a cache whose MAC does not match')
      const run = await post(url, 'work.loose', { x: 2 })
      assert.equal(run.status, 200, JSON.stringify(run.body))
      assert.deepEqual(run.body, { x: 2 }, 'the real graph ran')
      assert.equal(existsSync(marker), false, 'the planted module was never imported')
    } finally {
      await dev.stop()
    }
  })
})
