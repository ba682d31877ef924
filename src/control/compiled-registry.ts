// The generated form of a registry: everything loadRegistry needs, as plain JSON,
// so the runtime pays one JSON.parse instead of a YAML parse and Ajv import.
import type { Pool, Registry, Workflow } from './types.js'

/** Bumped whenever the shape below or the validator code generation changes. */
export const COMPILED_FORMAT = 1

/** A file the compiled registry was built from, as it was then. */
export interface FileStamp {
  readonly path: string
  readonly size: number
  readonly mtimeMs: number
  /** `sha256:` of the bytes, checked when size and mtime cannot be trusted. */
  readonly hash: string
}

export interface CompiledRegistry {
  readonly format: typeof COMPILED_FORMAT
  /** Absolute path of the registry file. */
  readonly source: string
  readonly root: string
  /** Date.now() taken before any file was read: a file changed at or after it may differ from its stamp. */
  readonly builtAt: number
  /** The registry file first, then every file it references. */
  readonly files: readonly FileStamp[]
  readonly digest: string
  readonly pools: readonly Pool[]
  readonly workflows: readonly Workflow[]
  /**
   * Validator id per workflow name: the content hash of its standalone code,
   * which lives apart (one small file per id) so loading never parses it.
   */
  readonly validators: Readonly<Record<string, string>>
}

/** Where route() finds a workflow's validator code (never on the public type). */
export interface RegistryInternals {
  readonly validators: Readonly<Record<string, string>>
  /** The code for a validator id, or undefined when it is gone. */
  readonly code: (id: string) => string | undefined
}

const internals = new WeakMap<Registry, RegistryInternals>()

/** The Registry the rest of Switchyard sees, from its compiled form. */
export function hydrate(compiled: CompiledRegistry, code: RegistryInternals['code']): Registry {
  const registry: Registry = {
    version: 1,
    source: compiled.source,
    root: compiled.root,
    digest: compiled.digest,
    pools: new Map(compiled.pools.map((pool) => [pool.name, pool])),
    workflows: new Map(compiled.workflows.map((workflow) => [workflow.name, workflow])),
  }
  internals.set(registry, { validators: compiled.validators, code })
  return registry
}

/** The validator sources of a registry loaded by loadRegistry, if any. */
export function internalsOf(registry: Registry): RegistryInternals | undefined {
  return internals.get(registry)
}
