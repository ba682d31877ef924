// loadRegistry(): the registry as the runtime loads it — its generated form,
// everything needed as plain JSON, so the runtime pays one JSON.parse instead
// of a YAML parse and an Ajv import; rebuilt (and rewritten) when stale.
//   .switchyard/<registry file>.compiled.json   pools, workflows, file stamps
//   .switchyard/hashes/<id>.json                 sha256 per stamped file, read only when a stamp cannot be trusted
//   .switchyard/schemas/<digest>.json            schemas, read on first use (route() never needs them)
//   .switchyard/validators/<hash>.cjs            one input validator each, read on first route()
// A compiled form is used only when every file it was built from is unchanged
// (DESIGN §2.2: never a stale one). The compiled form, its cache and the loader
// share one module because every routing process loads them, and each ES
// module costs about half a millisecond to load. The compiler
// (registry-compiler.ts, with `yaml` and Ajv) is required only to rebuild.
import { createRequire } from 'node:module'
import type * as ChildProcess from 'node:child_process'
import type * as Crypto from 'node:crypto'
import type * as Fs from 'node:fs'
import type * as Path from 'node:path'
import type * as Url from 'node:url'
import { RegistryError, SwitchyardError, type RegistryProblem } from '../contract/index.js'
import type { GraphRef, JsonSchema, Pool, Registry, Workflow } from '../contract/index.js'

let localRequire: NodeJS.Require | undefined

/**
 * require() relative to src/control, made on first use: for what a routing
 * process rarely needs (the compiler, Ajv's runtime helpers, built-ins on old Nodes).
 */
export function requireHere(id: string): unknown {
  return (localRequire ??= createRequire(import.meta.url))(id)
}

/**
 * A built-in module as require() returns it. Not `import … from 'node:fs'`: that
 * builds the ES module namespace, whose getters (ReadStream, promises, …) load
 * ~30 of Node's stream modules (~2 ms), and every `node:` import costs an ES
 * module facade of its own (~0.25 ms each). process.getBuiltinModule (Node ≥ 20.16)
 * skips the module system altogether; older Nodes use createRequire, whose
 * `node:module` import above is the one facade left (~0.3 ms; it can go once
 * the package requires Node ≥ 20.16).
 */
export const builtin: <T>(id: string) => T =
  typeof process.getBuiltinModule === 'function'
    ? <T>(id: string) => process.getBuiltinModule(id) as T
    : <T>(id: string) => requireHere(id) as T

const { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } = builtin<typeof Fs>('node:fs')
const { basename, dirname, extname, join, resolve, sep } = builtin<typeof Path>('node:path')

// node:crypto costs ~5 ms to load; a fresh compiled registry never hashes.
let crypto: typeof Crypto | undefined

/** `sha256:<hex>` of the bytes. */
export function sha256(data: string | Uint8Array): string {
  crypto ??= builtin<typeof Crypto>('node:crypto')
  return `sha256:${crypto.createHash('sha256').update(data).digest('hex')}`
}

/** Bumped whenever the shape below or the validator code generation changes. */
export const COMPILED_FORMAT = 4

// ---- the compiled form ----
// Shaped for the cost of loading it at 1,000 workflows: one JSON.parse, then one
// syscall per file. Columns rather than an object per workflow or per file (less
// to parse, fewer objects to allocate and collect); no file hashes (a sidecar,
// read only when needed); nothing that derives from another field (a graph's
// module and export derive from its ref). Paths the load checks are stored
// absolute: relative ones parse faster, but joining each to the root before its
// syscall costs as much again (measured at 1,000 workflows).

/** The files the compiled registry was built from, as they were then: the registry file first, then every schema file. */
export interface FileStamps {
  /** Absolute paths. */
  readonly path: readonly string[]
  readonly size: readonly number[]
  readonly mtimeMs: readonly number[]
  /**
   * Id of hashes/<id>.json: the `sha256:` of each file's bytes, in the same order,
   * read only when a file's size and mtime cannot be trusted (see isFresh).
   * Content-addressed, so it always belongs to the stamps that name it.
   */
  readonly hashes: string
}

/** Every workflow, one column per field, in registry order. */
export interface WorkflowColumns {
  readonly name: readonly string[]
  readonly pool: readonly string[]
  /** As written in the registry: `path#export` (GraphRef.ref). */
  readonly graph: readonly string[]
  /** Relative to `root` (absolute paths are in `exist`), or null. */
  readonly prompt: readonly (string | null)[]
  readonly description: readonly string[]
  readonly timeoutMs: readonly number[]
  readonly retries: readonly number[]
  /**
   * Id of the input validator: the content hash of its standalone code, which
   * lives apart (one small file per id) so loading never parses it; '' for none.
   */
  readonly validator: readonly string[]
}

export interface CompiledRegistry {
  readonly format: typeof COMPILED_FORMAT
  /** Absolute path of the registry file. */
  readonly source: string
  readonly root: string
  /** Date.now() taken before any file was read: a file changed at or after it may differ from its stamp. */
  readonly builtAt: number
  /** Schema files (and the registry file) are stamped; see `exist` for the other files. */
  readonly files: FileStamps
  /** Graph modules, prompts and env files, absolute and each once: not read at load, but each must exist. */
  readonly exist: readonly string[]
  readonly digest: string
  readonly pools: readonly Pool[]
  readonly workflows: WorkflowColumns
}

/** Input and output schema per workflow name. */
export type SchemaTable = Readonly<Record<string, { readonly input: JsonSchema; readonly output: JsonSchema | null }>>

/** How a loaded registry reaches what it keeps out of the compiled file. */
export interface RegistryStore {
  /** The code for a validator id, or undefined when it is gone. */
  readonly code: (id: string) => string | undefined
  /** Every workflow's schemas, read once on first use. */
  readonly schemas: () => SchemaTable
}

interface Internals extends RegistryStore {
  /** The validator id of a workflow, or undefined. */
  readonly validator: (name: string) => string | undefined
}

const internals = new WeakMap<Registry, Internals>()

/** A workflow of a loaded registry; built on first lookup, its schemas read when first asked for. */
class LoadedWorkflow implements Workflow {
  readonly name: string
  readonly pool: string
  readonly graph: GraphRef
  readonly prompt: string | null
  readonly description: string
  readonly timeoutMs: number
  readonly retries: number
  readonly #schemas: () => SchemaTable

  constructor(columns: WorkflowColumns, i: number, root: string, schemas: () => SchemaTable) {
    const ref = columns.graph[i] ?? ''
    const hash = ref.lastIndexOf('#')
    this.name = columns.name[i] ?? ''
    this.pool = columns.pool[i] ?? ''
    // As the compiler resolved it: the module relative to the registry, export `graph` by default.
    this.graph = {
      ref,
      module: resolve(root, hash === -1 ? ref : ref.slice(0, hash)),
      export: hash === -1 ? 'graph' : ref.slice(hash + 1),
    }
    const prompt = columns.prompt[i] ?? null
    this.prompt = prompt === null ? null : resolve(root, prompt)
    this.description = columns.description[i] ?? ''
    this.timeoutMs = columns.timeoutMs[i] ?? 0
    this.retries = columns.retries[i] ?? 0
    this.#schemas = schemas
  }

  get input(): JsonSchema {
    return this.#schemas()[this.name]?.input ?? true
  }

  get output(): JsonSchema | null {
    return this.#schemas()[this.name]?.output ?? null
  }

  /** Getters are not own properties: spell the whole workflow out for JSON. */
  toJSON(): Workflow {
    return { ...this, input: this.input, output: this.output }
  }
}

/**
 * `registry.workflows` of a loaded registry. A process routes to a few of its
 * workflows, so each Workflow object is built on its first lookup; iterating
 * builds them all, once.
 */
class WorkflowTable implements ReadonlyMap<string, Workflow> {
  readonly #columns: WorkflowColumns
  readonly #root: string
  readonly #schemas: () => SchemaTable
  readonly #index = new Map<string, number>()
  readonly #built: (Workflow | undefined)[] = []
  #all: Map<string, Workflow> | undefined

  constructor(columns: WorkflowColumns, root: string, schemas: () => SchemaTable) {
    this.#columns = columns
    this.#root = root
    this.#schemas = schemas
    columns.name.forEach((name, i) => this.#index.set(name, i))
  }

  get size(): number {
    return this.#index.size
  }

  has(name: string): boolean {
    return this.#index.has(name)
  }

  get(name: string): Workflow | undefined {
    const i = this.#index.get(name)
    return i === undefined ? undefined : this.#at(i)
  }

  /** The id of the workflow's input validator, or undefined. */
  validator(name: string): string | undefined {
    const i = this.#index.get(name)
    return (i === undefined ? undefined : this.#columns.validator[i]) || undefined
  }

  keys(): MapIterator<string> {
    return this.#index.keys()
  }

  values(): MapIterator<Workflow> {
    return this.#map().values()
  }

  entries(): MapIterator<[string, Workflow]> {
    return this.#map().entries()
  }

  forEach(callback: (workflow: Workflow, name: string, map: ReadonlyMap<string, Workflow>) => void, thisArg?: unknown): void {
    this.#map().forEach((workflow, name) => callback.call(thisArg, workflow, name, this))
  }

  [Symbol.iterator](): MapIterator<[string, Workflow]> {
    return this.entries()
  }

  #at(i: number): Workflow {
    return (this.#built[i] ??= new LoadedWorkflow(this.#columns, i, this.#root, this.#schemas))
  }

  #map(): Map<string, Workflow> {
    return (this.#all ??= new Map(this.#columns.name.map((name, i) => [name, this.#at(i)])))
  }
}

/** The Registry the rest of Switchyard sees, from its compiled form. */
export function hydrate(compiled: CompiledRegistry, store: RegistryStore): Registry {
  const { root } = compiled
  let table: SchemaTable | undefined
  const schemas = (): SchemaTable => (table ??= store.schemas())
  const workflows = new WorkflowTable(compiled.workflows, root, schemas)
  const registry: Registry = {
    version: 1,
    source: compiled.source,
    root,
    digest: compiled.digest,
    pools: new Map(compiled.pools.map((pool) => [pool.name, pool])),
    workflows,
  }
  internals.set(registry, { validator: (name) => workflows.validator(name), code: store.code, schemas })
  return registry
}

/** Where a registry loaded by loadRegistry keeps its validators, if it is one. */
export function internalsOf(registry: Registry): Internals | undefined {
  return internals.get(registry)
}

// ---- the cache on disk ----

/**
 * A file whose mtime is this close to (or after) the build may have changed
 * after it was read, within one timestamp granule: its bytes are hashed instead
 * of trusting size and mtime (the "racy clean" case git knows too).
 */
const RACY_MS = 1000

/** Schema tables and hash lists of older registry versions are removed once this old. */
const KEPT_MS = 24 * 3_600_000

export interface CachePaths {
  readonly dir: string
  readonly compiled: string
  readonly validators: string
  readonly schemas: string
  readonly hashes: string
}

/** Where the cache of the registry file `source` (absolute, normalised) lives. */
export function cachePaths(source: string): CachePaths {
  // Joined by hand: `source` is already normalised, and path.join costs a routing
  // process more (run cold, once) than the string it returns.
  const dir = `${dirname(source)}${sep}.switchyard`
  return {
    dir,
    compiled: `${dir}${sep}${basename(source)}.compiled.json`,
    validators: `${dir}${sep}validators`,
    schemas: `${dir}${sep}schemas`,
    hashes: `${dir}${sep}hashes`,
  }
}

/** Schema tables are named by registry digest, so a loaded registry always finds its own. */
function schemasFile(paths: CachePaths, digest: string): string {
  return join(paths.schemas, `${digest.replace('sha256:', '')}.json`)
}

/** File hashes are named by their own content hash (FileStamps.hashes). */
function hashesFile(paths: CachePaths, id: string): string {
  return join(paths.hashes, `${id}.json`)
}

/** One options object for every stat: at a thousand files, per-call garbage adds up. */
const IF_EXISTS = { throwIfNoEntry: false } as const

/** The cached compiled registry for `source`, or null when absent, foreign or stale. */
export function readCompiled(source: string): CompiledRegistry | null {
  const paths = cachePaths(source)
  try {
    const compiled = JSON.parse(readFileSync(paths.compiled, 'utf8')) as CompiledRegistry
    return compiled.format === COMPILED_FORMAT && compiled.source === source && isFresh(paths, compiled) ? compiled : null
  } catch {
    // Absent, unreadable, or not the shape its format says (edited by hand, say): rebuilt.
    return null
  }
}

/** Whether every file the compiled registry was built from is unchanged, and every file it names exists. */
function isFresh(paths: CachePaths, compiled: CompiledRegistry): boolean {
  const { files, exist } = compiled
  const checkedAt = Date.now()
  const trustedBefore = compiled.builtAt - RACY_MS
  // Files whose size matches but whose mtime cannot be trusted: index → mtimeMs now.
  let racy: Map<number, number> | undefined
  for (let i = 0; i < files.path.length; i++) {
    const stat = statSync(files.path[i] ?? '', IF_EXISTS)
    if (!stat || stat.size !== files.size[i]) return false
    const mtimeMs = files.mtimeMs[i] ?? NaN
    if (stat.mtimeMs !== mtimeMs || mtimeMs >= trustedBefore) (racy ??= new Map()).set(i, stat.mtimeMs)
  }
  if (racy && !sameBytes(paths, compiled, racy)) return false
  // Graph modules, prompts and env files are not read here, but each must still
  // exist (DESIGN §2.1: every path resolves, checked at load); one syscall each.
  for (const path of exist) if (!existsSync(path)) return false
  // Unchanged bytes behind new or too-recent mtimes: restamp, so later loads
  // are back to one stat per file.
  const restamped = racy
  if (restamped && [...restamped.values()].every((mtimeMs) => mtimeMs < checkedAt - RACY_MS)) {
    const mtimeMs = files.mtimeMs.map((stamped, i) => restamped.get(i) ?? stamped)
    writeCompiled({ ...compiled, builtAt: checkedAt, files: { ...files, mtimeMs } }, new Map(), null, null)
  }
  return true
}

/** Whether each of these files still holds the bytes it was compiled from. */
function sameBytes(paths: CachePaths, compiled: CompiledRegistry, files: ReadonlyMap<number, number>): boolean {
  let hashes: readonly string[]
  try {
    hashes = JSON.parse(readFileSync(hashesFile(paths, compiled.files.hashes), 'utf8')) as string[]
  } catch {
    return false
  }
  for (const i of files.keys()) {
    let bytes: Buffer
    try {
      bytes = readFileSync(compiled.files.path[i] ?? '')
    } catch {
      return false
    }
    if (hashes[i] === undefined || sha256(bytes) !== hashes[i]) return false
  }
  return true
}

/**
 * Write the compiled registry, its validators and (unless null) its schema
 * table and file hashes; false when the folder is not writable (loading then
 * simply rebuilds).
 */
export function writeCompiled(
  compiled: CompiledRegistry,
  codes: ReadonlyMap<string, string>,
  schemas: SchemaTable | null,
  hashes: readonly string[] | null,
): boolean {
  const paths = cachePaths(compiled.source)
  try {
    mkdirSync(paths.validators, { recursive: true })
    mkdirSync(paths.schemas, { recursive: true })
    mkdirSync(paths.hashes, { recursive: true })
    for (const [id, code] of codes) {
      const file = join(paths.validators, `${id}.cjs`)
      // Content-addressed: an existing file already holds this code.
      if (!existsSync(file)) writeAtomically(file, code)
    }
    if (schemas) {
      const current = schemasFile(paths, compiled.digest)
      writeAtomically(current, JSON.stringify(schemas))
      removeOld(paths.schemas, current)
    }
    if (hashes) {
      const current = hashesFile(paths, compiled.files.hashes)
      writeAtomically(current, JSON.stringify(hashes))
      removeOld(paths.hashes, current)
    }
    writeAtomically(paths.compiled, JSON.stringify(compiled))
    return true
  } catch {
    return false
  }
}

/** The schema table of the registry with this digest, or undefined when it is gone. */
export function readSchemas(source: string, digest: string): SchemaTable | undefined {
  try {
    return JSON.parse(readFileSync(schemasFile(cachePaths(source), digest), 'utf8')) as SchemaTable
  } catch {
    return undefined
  }
}

/** Removes the files of older registry versions from `dir`, once they are KEPT_MS old (a process may still be loading one). */
function removeOld(dir: string, current: string): void {
  const cutoff = Date.now() - KEPT_MS
  for (const name of readdirSync(dir)) {
    const file = join(dir, name)
    if (file !== current && statSync(file).mtimeMs < cutoff) unlinkSync(file)
  }
}

/** Reads a validator's code by id, or undefined when the file is gone. */
export function readValidatorCode(source: string, id: string): string | undefined {
  try {
    // Written atomically under its content hash: no partial or foreign code.
    return readFileSync(`${cachePaths(source).validators}${sep}${id}.cjs`, 'utf8')
  } catch {
    return undefined
  }
}

/** Readers never see half a file: write beside it, then rename over it. */
function writeAtomically(file: string, text: string): void {
  const temp = `${file}.${process.pid}.tmp`
  writeFileSync(temp, text)
  renameSync(temp, file)
}

// ---- loading ----

/** What registry-compiler.ts returns: the compiled form, or every problem. */
export interface Compilation {
  readonly compiled: CompiledRegistry | null
  /** Standalone validator code by id, for the workflows' `validator` ids. */
  readonly codes: ReadonlyMap<string, string>
  readonly schemas: SchemaTable
  /** `sha256:` of each stamped file, in the order of `compiled.files.path`. */
  readonly hashes: readonly string[]
  readonly problems: readonly RegistryProblem[]
}

/** A Compilation as compile-child.ts prints it: `codes` as [id, code] pairs. */
export interface CompilationJson extends Omit<Compilation, 'codes'> {
  readonly codes: readonly (readonly [string, string])[]
}

let compiler: { compileRegistry(source: string): Compilation } | undefined

/**
 * The compiler (and through it `yaml` and Ajv) is required only when a registry
 * must be rebuilt, so a process loading a fresh compiled form never loads it.
 * Requiring an ES module synchronously needs Node ≥ 20.19; before that (or with
 * SWITCHYARD_COMPILE_IN_CHILD=1, which tests use to take this path) the
 * compiler runs in a child process, still synchronously.
 */
function compileRegistry(source: string): Compilation {
  if (process.env.SWITCHYARD_COMPILE_IN_CHILD === '1') return compileInChild(source)
  if (compiler === undefined) {
    try {
      compiler = requireHere('./registry-compiler.js') as NonNullable<typeof compiler>
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ERR_REQUIRE_ESM') return compileInChild(source)
      throw cannotCompile(source, 'in this process', error)
    }
  }
  return compiler.compileRegistry(source)
}

/** Node flags that load code (tsx when running from sources), which the child needs too. */
const LOADER_FLAG = /^(--import|--require|-r|--loader|--experimental-loader)(=|$)/

function compileInChild(source: string): Compilation {
  const here = builtin<typeof Url>('node:url').fileURLToPath(import.meta.url)
  const script = join(dirname(here), `compile-child${extname(here)}`)
  const flags: string[] = []
  process.execArgv.forEach((arg, i, all) => {
    if (!LOADER_FLAG.test(arg)) return
    flags.push(arg)
    const value = all[i + 1]
    if (!arg.includes('=') && value !== undefined) flags.push(value)
  })
  let out: string
  try {
    // The whole compilation comes back on stdout: validator code for every workflow.
    out = builtin<typeof ChildProcess>('node:child_process').execFileSync(process.execPath, [...flags, script, source], {
      encoding: 'utf8',
      maxBuffer: 1024 ** 3,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? '').trim()
    throw cannotCompile(source, 'in a child process', stderr ? new Error(stderr, { cause: error }) : error)
  }
  const json = JSON.parse(out) as CompilationJson
  return { ...json, codes: new Map(json.codes) }
}

function cannotCompile(source: string, where: string, error: unknown): SwitchyardError {
  return new SwitchyardError(
    'REGISTRY_INVALID',
    `cannot compile ${source} ${where} (${error instanceof Error ? error.message : String(error)}); run \`switchyard check\` first`,
    { cause: error },
  )
}

/**
 * Load a registry file (`switchyard.yaml` or `.json`). Synchronous and cheap:
 * a fresh compiled form in `.switchyard/` beside the file is one JSON.parse;
 * otherwise the file is parsed and checked (every problem reported at once, as a
 * RegistryError) and the compiled form is written for next time. Imports no graph.
 *
 * @example
 * const registry = loadRegistry('switchyard.yaml')
 * const plan = route(registry, { workflow: 'email.compose', input })
 */
export function loadRegistry(path: string): Registry {
  const source = resolve(path)
  const cached = readCompiled(source)
  if (cached) {
    const { digest } = cached
    return hydrate(cached, {
      code: (id) => readValidatorCode(source, id),
      schemas: () => readSchemas(source, digest) ?? schemasOf(source, digest),
    })
  }
  const { registry, problems } = rebuildRegistry(source)
  if (!registry) throw new RegistryError(problems)
  return registry
}

/**
 * Parse and check the registry file now, ignoring any compiled form, and write
 * a new compiled form when it is clean (what `switchyard check` does).
 */
export function rebuildRegistry(path: string): { registry: Registry | null; problems: readonly RegistryProblem[] } {
  const source = resolve(path)
  const { compiled, codes, schemas, hashes, problems } = compileRegistry(source)
  if (!compiled) return { registry: null, problems }
  writeCompiled(compiled, codes, schemas, hashes)
  return { registry: hydrate(compiled, { code: (id) => codes.get(id), schemas: () => schemas }), problems: [] }
}

/** The schemas of a loaded registry whose table was removed: rebuilt, if the files still say the same. */
function schemasOf(source: string, digest: string): SchemaTable {
  const { compiled, schemas } = compileRegistry(source)
  if (compiled?.digest === digest) return schemas
  throw new SwitchyardError('REGISTRY_INVALID', `registry ${source} changed since it was loaded (${digest}); load it again`)
}
