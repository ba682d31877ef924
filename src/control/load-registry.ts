// loadRegistry: the compiled form when it is fresh, a rebuild (and a new
// compiled form on disk) when it is not. The compiler requires `yaml` and Ajv
// only when it runs, so a fresh load never loads either.
import { createRequire } from 'node:module'
import { resolve } from 'node:path'
import { hydrate, readCompiled, readSchemas, readValidatorCode, writeCompiled, type SchemaTable } from './compiled-registry.js'
import { RegistryError, SwitchyardError, type RegistryProblem } from './errors.js'
import type { Registry } from './types.js'
import type * as Compiler from './registry-compiler.js'

let compiler: typeof Compiler | undefined

/**
 * The compiler (and through it `yaml` and Ajv) is required only when a registry
 * must be rebuilt, so a process loading a fresh compiled form never loads it.
 * Requiring an ES module synchronously needs Node ≥ 20.19.
 */
function compileRegistry(source: string): ReturnType<typeof Compiler.compileRegistry> {
  try {
    compiler ??= createRequire(import.meta.url)('./registry-compiler.js') as typeof Compiler
  } catch (error) {
    throw new SwitchyardError(
      'REGISTRY_INVALID',
      `cannot compile ${source} in this process (${error instanceof Error ? error.message : String(error)}); run \`switchyard check\` first, or use Node ≥ 20.19`,
      { cause: error },
    )
  }
  return compiler.compileRegistry(source)
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
