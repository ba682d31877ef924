// The compiled registry: what `switchyard check` (or the first load) writes beside the
// registry file, shaped to load fast at 1,000 workflows, and the Registry the rest of
// Switchyard sees, hydrated from it (workflows built on first lookup).
import { resolve } from 'node:path'
import { SwitchyardError, type RegistryProblem } from '../contract/index.js'
import type { GraphRef, JsonSchema, Pool, Registry, Workflow } from '../contract/index.js'

/** Bumped whenever the shape below or the validator code generation changes. */
export const COMPILED_FORMAT = 12

// Shaped for the cost of loading it at 1,000 workflows: one JSON.parse, then a few
// syscalls (the registry file and its folders), and one per schema file and folder of a
// workflow on its first use. Columns rather than an object per workflow or per file (less
// to parse, fewer objects to allocate and collect); no file hashes (a sidecar,
// read only when needed); nothing that derives from another field (a graph's
// module and export derive from its ref). Stamped files, folders and `exist` entries
// are stored by name in their folder, each folder by name in its parent: a load
// checks only the registry file and, on a workflow's first use, that workflow's
// files, so it joins a few paths, and never parses the 1,000 absolute ones (at
// 1,000 workflows, one schema file each, that made the form ~30 % smaller;
// bench/control-plane prints its size).

/** The files the compiled registry was built from, as they were then: the registry file first, then every schema file. */
export interface FileStamps {
  /** Each file's name in its folder (`folder`). */
  readonly name: readonly string[]
  readonly size: readonly number[]
  readonly mtimeMs: readonly number[]
  /**
   * The kernel sets ctime on every write and every utimes, so an edit that puts the
   * mtime back (tar, cp -p, touch -d) still moves it; ino moves when another file
   * takes the path (a folder renamed into place, a save by rename).
   */
  readonly ctimeMs: readonly number[]
  readonly ino: readonly number[]
  /** Index in `folders` of each file's folder. */
  readonly folder: readonly number[]
  /**
   * Id of hashes/<id>.json: the `sha256:` of each file's bytes, in the same order,
   * read only when a file's stamp cannot be trusted (see cache-freshness.ts).
   * Content-addressed, so it always belongs to the stamps that name it.
   */
  readonly hashes: string
}

/**
 * Every folder on the way to a stamped file or an `exist` entry, from below the
 * filesystem root down, each once. A folder's mtime and ctime move whenever an
 * entry in it is added, removed, renamed or replaced, so an unchanged folder
 * vouches for the `exist` entries in it with one lstat instead of one per entry.
 */
export interface FolderStamps {
  /** Each folder's name in its parent; the topmost one's absolute path (the filesystem root). */
  readonly name: readonly string[]
  /** Index of the folder it is in, -1 for the topmost one stamped. */
  readonly parent: readonly number[]
  readonly ino: readonly number[]
  readonly mtimeMs: readonly number[]
  readonly ctimeMs: readonly number[]
}

/** Graph modules, prompts and env files: not read at load, but each must exist, as what it was. */
export interface ExistEntries {
  /** The entry's name in its folder. */
  readonly name: readonly string[]
  /** Index in `folders` of the folder it is in. */
  readonly folder: readonly number[]
  /** One letter per entry, what lstat saw: f file, d folder, l symlink, o anything else. */
  readonly kind: string
  /** The entries no workflow names (pools' env files): checked at load with the registry file. */
  readonly pools: readonly number[]
}

/** Every workflow, one column per field, in registry order. */
export interface WorkflowColumns {
  readonly name: readonly string[]
  readonly pool: readonly string[]
  /** As written in the registry: `path#export` (GraphRef.ref). */
  readonly graph: readonly string[]
  /** Relative to `root` (`exist` names it too, by folder and name), or null. */
  readonly prompt: readonly (string | null)[]
  readonly description: readonly string[]
  readonly timeoutMs: readonly number[]
  readonly retries: readonly number[]
  /**
   * Id of the input validator: the content hash of its standalone code, which
   * lives apart (one small file per id) so loading never parses it; '' for none.
   */
  readonly validator: readonly string[]
  /**
   * Indices in `files` of each workflow's schema files and in `exist` of its graph module
   * and prompt: checked on the workflow's first use, not at load (cache-freshness.ts).
   */
  readonly files: readonly (readonly number[])[]
  readonly exist: readonly (readonly number[])[]
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
  readonly folders: FolderStamps
  /** Graph modules, prompts and env files, each once. */
  readonly exist: ExistEntries
  /**
   * Real path of every stamped file, `exist` entry and folder that was a symlink at
   * build: checked at every load, since a link's target can move without anything
   * on the link's own side changing.
   */
  readonly links: Readonly<Record<string, string>>
  readonly digest: string
  /** Content id (cache-trust.ts contentId) of the schema table's JSON, checked when it is read. */
  readonly schemas: string
  readonly pools: readonly Pool[]
  readonly workflows: WorkflowColumns
}

/** Input and output schema per workflow name. */
export type SchemaTable = Readonly<Record<string, { readonly input: JsonSchema; readonly output: JsonSchema | null }>>

/** How a loaded registry reaches what it keeps out of the compiled file. */
export interface RegistryStore {
  /**
   * The code for a validator id, or undefined when it is gone, not the code the id
   * names, or not from a cache this process verified (then route() compiles it).
   */
  readonly code: (id: string) => string | undefined
  /** Puts back code route() compiled for an id whose cached file was refused (a cache this process may write). */
  readonly restore: (id: string, code: string) => void
  /** Every workflow's schemas, read once on first use. */
  readonly schemas: () => SchemaTable
  /**
   * Whether workflow `i`'s own files (schemas, graph module, prompt) are still what the
   * compiled form was built from; asked once, before the workflow is first served.
   * Absent: every workflow is fresh (the form was compiled just now).
   */
  readonly fresh?: (i: number) => boolean
  /**
   * The registry compiled again from its files, now, for when a workflow is found stale;
   * throws (a RegistryError naming every problem) when the files no longer compile.
   */
  readonly reload?: () => { readonly compiled: CompiledRegistry; readonly store: RegistryStore }
}

interface Internals {
  /** The validator id of a workflow, or undefined. */
  readonly validator: (name: string) => string | undefined
  readonly code: RegistryStore['code']
  readonly restore: RegistryStore['restore']
  readonly schemas: RegistryStore['schemas']
  /** route()'s per-workflow preparations: a new map whenever the registry is rebuilt under it. */
  prepared: Map<string, unknown>
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

/** The compiled form a loaded registry serves from now, and what it knows of its workflows. */
class State {
  readonly compiled: CompiledRegistry
  readonly store: RegistryStore
  /** 1: the workflow's files were found fresh (or the form was compiled just now). */
  readonly checked: Uint8Array
  /** What rebuilding the registry threw for a workflow found stale: thrown again, never served. */
  readonly failed = new Map<number, unknown>()
  readonly built: (Workflow | undefined)[] = []
  all: Map<string, Workflow> | undefined
  #table: SchemaTable | undefined

  constructor(compiled: CompiledRegistry, store: RegistryStore) {
    this.compiled = compiled
    this.store = store
    this.checked = new Uint8Array(compiled.workflows.name.length)
    if (store.fresh === undefined) this.checked.fill(1)
  }

  schemas(): SchemaTable {
    return (this.#table ??= this.store.schemas())
  }
}

/** What a rebuild may change under a loaded registry: only what its workflows' own files say (schemas, validators, digest). */
function sameShape(a: CompiledRegistry, b: CompiledRegistry): boolean {
  const { name, pool, graph, prompt, description, timeoutMs, retries } = a.workflows
  const w = b.workflows
  return (
    a.source === b.source &&
    JSON.stringify(a.pools) === JSON.stringify(b.pools) &&
    JSON.stringify([name, pool, graph, prompt, description, timeoutMs, retries]) ===
      JSON.stringify([w.name, w.pool, w.graph, w.prompt, w.description, w.timeoutMs, w.retries])
  )
}

/**
 * `registry.workflows` of a loaded registry. A process routes to a few of its
 * workflows, so each Workflow object is built on its first lookup, after its own files
 * were found fresh; iterating builds (and checks) them all, once. A workflow found
 * stale rebuilds the whole registry from its files before anything of it is served.
 */
class WorkflowTable implements ReadonlyMap<string, Workflow> {
  readonly #root: string
  readonly #index = new Map<string, number>()
  readonly #replace: (next: State) => void
  #state: State

  constructor(state: State, root: string, replace: (next: State) => void) {
    this.#state = state
    this.#root = root
    this.#replace = replace
    state.compiled.workflows.name.forEach((name, i) => this.#index.set(name, i))
  }

  get state(): State {
    return this.#state
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
    return (i === undefined ? undefined : this.#state.compiled.workflows.validator[i]) || undefined
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
    const known = this.#state.built[i]
    if (known) return known
    this.#check(i)
    const state = this.#state
    const schemas = (): SchemaTable => this.#state.schemas()
    return (state.built[i] ??= new LoadedWorkflow(state.compiled.workflows, i, this.#root, schemas))
  }

  /** Workflow `i`'s files are checked before it is first served; stale, the registry is rebuilt (or the rebuild's error thrown). */
  #check(i: number): void {
    const state = this.#state
    if (state.checked[i] === 1) return
    if (state.failed.has(i)) throw state.failed.get(i)
    if (state.store.fresh?.(i) !== false) {
      state.checked[i] = 1
      return
    }
    try {
      const next = state.store.reload?.()
      if (!next) throw new SwitchyardError('REGISTRY_INVALID', `registry ${state.compiled.source} changed since it was loaded`)
      if (!sameShape(state.compiled, next.compiled)) {
        throw new SwitchyardError(
          'REGISTRY_INVALID',
          `registry ${state.compiled.source} changed since it was loaded (${state.compiled.digest}); load it again`,
        )
      }
      this.#state = new State(next.compiled, next.store)
      this.#replace(this.#state)
    } catch (error) {
      // Not rebuilt again on every request: the process keeps what it found, as a load would.
      state.failed.set(i, error)
      throw error
    }
  }

  #map(): Map<string, Workflow> {
    const state = this.#state
    if (state.all) return state.all
    const all = new Map<string, Workflow>()
    for (const [name, i] of this.#index) all.set(name, this.#at(i))
    // Checking a workflow may have rebuilt the registry: the map of the state it ends in.
    if (this.#state === state) state.all = all
    else return this.#map()
    return all
  }
}

/** The Registry the rest of Switchyard sees, from its compiled form. */
export function hydrate(compiled: CompiledRegistry, store: RegistryStore): Registry {
  const { root } = compiled
  const own: Internals = {
    validator: (name) => workflows.validator(name),
    code: (id) => workflows.state.store.code(id),
    restore: (id, code) => workflows.state.store.restore(id, code),
    schemas: () => workflows.state.schemas(),
    prepared: new Map(),
  }
  const workflows = new WorkflowTable(new State(compiled, store), root, () => {
    // route() prepares every workflow again, from the rebuilt registry.
    own.prepared = new Map()
  })
  const registry: Registry = {
    version: 1,
    source: compiled.source,
    root,
    // The digest of the compiled form served now: a rebuild under the registry moves it.
    get digest() {
      return workflows.state.compiled.digest
    },
    pools: new Map(compiled.pools.map((pool) => [pool.name, pool])),
    workflows,
  }
  internals.set(registry, own)
  return registry
}

/** Where a registry loaded by loadRegistry keeps its validators, if it is one. */
export function internalsOf(registry: Registry): Internals | undefined {
  return internals.get(registry)
}

/** What registry-compiler.ts returns: the compiled form, or every problem. */
export interface Compilation {
  readonly compiled: CompiledRegistry | null
  /** Standalone validator code by id, for the workflows' `validator` ids. */
  readonly codes: ReadonlyMap<string, string>
  readonly schemas: SchemaTable
  /** `sha256:` of each stamped file, in the order of `compiled.files`. */
  readonly hashes: readonly string[]
  readonly problems: readonly RegistryProblem[]
}

/** A Compilation as compile-child.ts prints it: `codes` as [id, code] pairs. */
export interface CompilationJson extends Omit<Compilation, 'codes'> {
  readonly codes: readonly (readonly [string, string])[]
}
