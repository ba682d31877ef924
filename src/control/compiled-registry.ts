// The generated form of a registry: everything loadRegistry needs, as plain JSON,
// so the runtime pays one JSON.parse instead of a YAML parse and an Ajv import.
// Schemas live in a second file read on first use: route() never needs them
// (validators carry their own copy), and they are half the bytes.
import type { GraphRef, JsonSchema, Pool, Registry, Workflow } from './types.js'

/** Bumped whenever the shape below or the validator code generation changes. */
export const COMPILED_FORMAT = 2

/** A file the compiled registry was built from, as it was then. */
export interface FileStamp {
  readonly path: string
  readonly size: number
  readonly mtimeMs: number
  /** `sha256:` of the bytes, checked when size and mtime cannot be trusted. */
  readonly hash: string
}

/** A workflow without its schemas. */
export type WorkflowSpec = Omit<Workflow, 'input' | 'output'>

/** Input and output schema per workflow name. */
export type SchemaTable = Readonly<Record<string, { readonly input: JsonSchema; readonly output: JsonSchema | null }>>

export interface CompiledRegistry {
  readonly format: typeof COMPILED_FORMAT
  /** Absolute path of the registry file. */
  readonly source: string
  readonly root: string
  /** Date.now() taken before any file was read: a file changed at or after it may differ from its stamp. */
  readonly builtAt: number
  /** The registry file first, then every schema file it references. */
  readonly files: readonly FileStamp[]
  readonly digest: string
  readonly pools: readonly Pool[]
  readonly workflows: readonly WorkflowSpec[]
  /**
   * Validator id per workflow name: the content hash of its standalone code,
   * which lives apart (one small file per id) so loading never parses it.
   */
  readonly validators: Readonly<Record<string, string>>
}

/** How a loaded registry reaches what it keeps out of the compiled file. */
export interface RegistryStore {
  /** The code for a validator id, or undefined when it is gone. */
  readonly code: (id: string) => string | undefined
  /** Every workflow's schemas, read once on first use. */
  readonly schemas: () => SchemaTable
}

interface Internals extends RegistryStore {
  readonly validators: Readonly<Record<string, string>>
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
  internals.set(registry, { validators: compiled.validators, code: store.code, schemas })
  return registry
}

/** Where a registry loaded by loadRegistry keeps its validators, if it is one. */
export function internalsOf(registry: Registry): Internals | undefined {
  return internals.get(registry)
}
