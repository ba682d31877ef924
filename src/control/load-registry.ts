// loadRegistry(): the registry as the runtime loads it — its generated form,
// everything needed as plain JSON, so the runtime pays one JSON.parse instead
// of a YAML parse and an Ajv import; rebuilt (and rewritten) when stale.
//   .switchyard/<registry file>.compiled.json   pools, workflows, file stamps
//   .switchyard/schemas/<digest>.json            schemas, read on first use (route() never needs them)
//   .switchyard/validators/<hash>.cjs            one input validator each, read on first route()
// A compiled form is used only when every file it was built from is unchanged
// (DESIGN §2.2: never a stale one). The compiled form, its cache and the loader
// share one module because every routing process loads them, and each ES
// module costs about half a millisecond to load. The compiler
// (registry-compiler.ts, with `yaml` and Ajv) is required only to rebuild.
import type * as Fs from 'node:fs'
import { createRequire } from 'node:module'
import type * as ChildProcess from 'node:child_process'
import type * as Crypto from 'node:crypto'
import { basename, dirname, extname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { RegistryError, SwitchyardError, type RegistryProblem } from './errors.js'
import type { GraphRef, JsonSchema, Pool, Registry, Workflow } from './types.js'

// Required, not imported: `import … from 'node:fs'` builds the ES module
// namespace, whose getters (ReadStream, promises, …) load ~30 of Node's stream
// modules, about 2 ms of every cold start; require() leaves them lazy.
const { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } = createRequire(
  import.meta.url,
)('node:fs') as typeof Fs

// node:crypto costs ~5 ms to load; a fresh compiled registry never hashes.
let crypto: typeof Crypto | undefined

/** `sha256:<hex>` of the bytes. */
export function sha256(data: string | Uint8Array): string {
  crypto ??= createRequire(import.meta.url)('node:crypto') as typeof Crypto
  return `sha256:${crypto.createHash('sha256').update(data).digest('hex')}`
}

/** Bumped whenever the shape below or the validator code generation changes. */
export const COMPILED_FORMAT = 3

/**
 * A file the compiled registry was built from, as it was then: path, size,
 * mtimeMs, and `sha256:` of the bytes (checked when size and mtime cannot be
 * trusted). A tuple, not an object: at 1,000 schema files that parses ~1 ms faster.
 */
export type FileStamp = readonly [path: string, size: number, mtimeMs: number, hash: string]

/**
 * A workflow without its schemas, with the id of its input validator: the
 * content hash of the validator's standalone code, which lives apart (one small
 * file per id) so loading never parses it.
 */
export type WorkflowSpec = Omit<Workflow, 'input' | 'output'> & { readonly validator: string }

/** Input and output schema per workflow name. */
export type SchemaTable = Readonly<Record<string, { readonly input: JsonSchema; readonly output: JsonSchema | null }>>

export interface CompiledRegistry {
  readonly format: typeof COMPILED_FORMAT
  /** Absolute path of the registry file. */
  readonly source: string
  readonly root: string
  /** Date.now() taken before any file was read: a file changed at or after it may differ from its stamp. */
  readonly builtAt: number
  /**
   * The registry file first, then every schema file it references. Graph modules,
   * prompts and env files are checked for existence only (see readCompiled).
   */
  readonly files: readonly FileStamp[]
  readonly digest: string
  readonly pools: readonly Pool[]
  readonly workflows: readonly WorkflowSpec[]
}

/** How a loaded registry reaches what it keeps out of the compiled file. */
export interface RegistryStore {
  /** The code for a validator id, or undefined when it is gone. */
  readonly code: (id: string) => string | undefined
  /** Every workflow's schemas, read once on first use. */
  readonly schemas: () => SchemaTable
}

interface Internals extends RegistryStore {
  /** Validator id per workflow name. */
  readonly validators: ReadonlyMap<string, string>
}

const internals = new WeakMap<Registry, Internals>()

/** A workflow whose schemas are read when first asked for. */
class LoadedWorkflow implements Workflow {
  readonly name: string
  readonly pool: string
  readonly graph: GraphRef
  readonly prompt: string | null
  readonly description: string
  readonly timeoutMs: number
  readonly retries: number
  readonly #schemas: () => SchemaTable

  constructor(spec: WorkflowSpec, schemas: () => SchemaTable) {
    this.name = spec.name
    this.pool = spec.pool
    this.graph = spec.graph
    this.prompt = spec.prompt
    this.description = spec.description
    this.timeoutMs = spec.timeoutMs
    this.retries = spec.retries
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

/** The Registry the rest of Switchyard sees, from its compiled form. */
export function hydrate(compiled: CompiledRegistry, store: RegistryStore): Registry {
  let table: SchemaTable | undefined
  const schemas = (): SchemaTable => (table ??= store.schemas())
  const registry: Registry = {
    version: 1,
    source: compiled.source,
    root: compiled.root,
    digest: compiled.digest,
    pools: new Map(compiled.pools.map((pool) => [pool.name, pool])),
    workflows: new Map(compiled.workflows.map((spec) => [spec.name, new LoadedWorkflow(spec, schemas)])),
  }
  const validators = new Map(compiled.workflows.map((spec) => [spec.name, spec.validator]))
  internals.set(registry, { validators, code: store.code, schemas })
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

/** Schema tables of older registry versions are removed once this old. */
const SCHEMAS_KEPT_MS = 24 * 3_600_000

export interface CachePaths {
  readonly dir: string
  readonly compiled: string
  readonly validators: string
  readonly schemas: string
}

export function cachePaths(source: string): CachePaths {
  const dir = join(dirname(source), '.switchyard')
  return {
    dir,
    compiled: join(dir, `${basename(source)}.compiled.json`),
    validators: join(dir, 'validators'),
    schemas: join(dir, 'schemas'),
  }
}

/** Schema tables are named by registry digest, so a loaded registry always finds its own. */
function schemasFile(paths: CachePaths, digest: string): string {
  return join(paths.schemas, `${digest.replace('sha256:', '')}.json`)
}

/** The cached compiled registry for `source`, or null when absent, foreign or stale. */
export function readCompiled(source: string): CompiledRegistry | null {
  const paths = cachePaths(source)
  let compiled: CompiledRegistry
  try {
    compiled = JSON.parse(readFileSync(paths.compiled, 'utf8')) as CompiledRegistry
  } catch {
    return null
  }
  if (compiled.format !== COMPILED_FORMAT || compiled.source !== source) return null
  const checkedAt = Date.now()
  let hashed = false
  const files: FileStamp[] = []
  for (const stamp of compiled.files) {
    const [path, size, mtimeMs, hash] = stamp
    const stat = statSync(path, { throwIfNoEntry: false })
    if (!stat || stat.size !== size) return null
    if (stat.mtimeMs === mtimeMs && mtimeMs < compiled.builtAt - RACY_MS) {
      files.push(stamp)
      continue
    }
    let bytes: Buffer
    try {
      bytes = readFileSync(path)
    } catch {
      return null
    }
    if (sha256(bytes) !== hash) return null
    hashed = true
    files.push([path, bytes.length, stat.mtimeMs, hash])
  }
  // Graph modules, prompts and env files are not read here, but each must still
  // exist (DESIGN §2.1: every path resolves, checked at load); one stat each.
  if (!referencedPathsExist(compiled)) return null
  // Unchanged bytes behind new or too-recent mtimes: restamp, so later loads
  // are back to one stat per file.
  if (hashed && files.every(([, , mtimeMs]) => mtimeMs < checkedAt - RACY_MS)) {
    writeCompiled({ ...compiled, builtAt: checkedAt, files }, new Map(), null)
  }
  return compiled
}

function referencedPathsExist(compiled: CompiledRegistry): boolean {
  const seen = new Set<string>()
  const exists = (path: string | null): boolean => {
    if (path === null || seen.has(path)) return true
    seen.add(path)
    return existsSync(path)
  }
  for (const pool of compiled.pools) if (!exists(pool.env)) return false
  for (const workflow of compiled.workflows) if (!exists(workflow.graph.module) || !exists(workflow.prompt)) return false
  return true
}

/**
 * Write the compiled registry, its validators and (unless null) its schema
 * table; false when the folder is not writable (loading then simply rebuilds).
 */
export function writeCompiled(compiled: CompiledRegistry, codes: ReadonlyMap<string, string>, schemas: SchemaTable | null): boolean {
  const paths = cachePaths(compiled.source)
  try {
    mkdirSync(paths.validators, { recursive: true })
    mkdirSync(paths.schemas, { recursive: true })
    for (const [id, code] of codes) {
      const file = join(paths.validators, `${id}.cjs`)
      // Content-addressed: an existing file already holds this code.
      if (!existsSync(file)) writeAtomically(file, code)
    }
    if (schemas) {
      const current = schemasFile(paths, compiled.digest)
      writeAtomically(current, JSON.stringify(schemas))
      removeOldSchemas(paths, current)
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

function removeOldSchemas(paths: CachePaths, current: string): void {
  const cutoff = Date.now() - SCHEMAS_KEPT_MS
  for (const name of readdirSync(paths.schemas)) {
    const file = join(paths.schemas, name)
    if (file !== current && statSync(file).mtimeMs < cutoff) unlinkSync(file)
  }
}

/** Reads a validator's code by id, or undefined when the file is gone. */
export function readValidatorCode(source: string, id: string): string | undefined {
  try {
    // Written atomically under its content hash: no partial or foreign code.
    return readFileSync(join(cachePaths(source).validators, `${id}.cjs`), 'utf8')
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
      compiler = createRequire(import.meta.url)('./registry-compiler.js') as NonNullable<typeof compiler>
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
  const here = fileURLToPath(import.meta.url)
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
    // Required here, not imported: loading it costs every routing process time.
    // The whole compilation comes back on stdout: validator code for every workflow.
    const { execFileSync } = createRequire(import.meta.url)('node:child_process') as typeof ChildProcess
    out = execFileSync(process.execPath, [...flags, script, source], {
      encoding: 'utf8',
      maxBuffer: 1024 ** 3,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? '').trim()
    throw cannotCompile(source, 'in a child process', stderr ? new Error(stderr, { cause: error }) : error)
  }
  const json = JSON.parse(out) as CompilationJson
  return { compiled: json.compiled, codes: new Map(json.codes), schemas: json.schemas, problems: json.problems }
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
    return hydrate(cached, {
      code: (id) => readValidatorCode(source, id),
      schemas: () => readSchemas(source, cached.digest) ?? schemasOf(source, cached.digest),
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
  const { compiled, codes, schemas, problems } = compileRegistry(source)
  if (!compiled) return { registry: null, problems }
  writeCompiled(compiled, codes, schemas)
  return { registry: hydrate(compiled, { code: (id) => codes.get(id), schemas: () => schemas }), problems: [] }
}

/** The schemas of a loaded registry whose table was removed: rebuilt, if the files still say the same. */
function schemasOf(source: string, digest: string): SchemaTable {
  const { compiled, schemas } = compileRegistry(source)
  if (compiled?.digest === digest) return schemas
  throw new SwitchyardError('REGISTRY_INVALID', `registry ${source} changed since it was loaded (${digest}); load it again`)
}
