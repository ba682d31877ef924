// loadRegistry(): the registry as the runtime loads it — its compiled form (compiled-
// registry.ts) from the cache beside the file (registry-cache.ts), so the runtime pays
// one JSON.parse instead of a YAML parse and an Ajv import; rebuilt (and rewritten)
// when stale. The compiler (registry-compiler.ts, with `yaml` and Ajv) is required
// only to rebuild.
import { dirname, extname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type * as ChildProcess from 'node:child_process'
import { RegistryError, SwitchyardError, type RegistryProblem } from '../contract/index.js'
import type { Registry } from '../contract/index.js'
import {
  hydrate,
  type Compilation,
  type CompilationJson,
  type CompiledRegistry,
  type RegistryStore,
  type SchemaTable,
} from './compiled-registry.js'
import { builtin, requireHere } from './node-builtins.js'
import { readCompiled, readSchemas, readValidatorCode, restoreValidatorCode, writeCompiled, type CacheTrust } from './registry-cache.js'

let compiler: { compileRegistry(source: string): Compilation } | undefined

/**
 * The compiler (and through it `yaml` and Ajv) is required only when a registry
 * must be rebuilt, so a process loading a fresh compiled form never loads it.
 * It is required by its file's own name: `.js` in dist/, `.ts` when running from
 * sources (a TypeScript loader such as tsx hooks require() by extension, and no
 * `.js` exists beside the sources). Requiring an ES module synchronously needs
 * Node ≥ 20.19, and a loader that hooks import() alone (`--import tsx/esm`)
 * cannot compile a `.ts` file for require(): then (or with
 * SWITCHYARD_COMPILE_IN_CHILD=1, which tests use to take this path) the compiler
 * runs in a child process that imports it, still synchronously.
 */
function compileRegistry(source: string): Compilation {
  if (process.env.SWITCHYARD_COMPILE_IN_CHILD === '1') return compileInChild(source)
  if (compiler === undefined) {
    const extension = extname(fileURLToPath(import.meta.url))
    try {
      compiler = requireHere(`./registry-compiler${extension}`) as NonNullable<typeof compiler>
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ERR_REQUIRE_ESM' || extension === '.ts') return compileInChild(source)
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
    `cannot compile ${source} ${where} (${error instanceof Error ? error.message : String(error)}); run \`npx switchyard check\` first`,
    { cause: error },
  )
}

/** How a process loads the registry. */
export interface LoadOptions {
  /**
   * `key` (every process of the operator's: gateway, CLI, an app that routes): trust and
   * write only a cache whose MAC matches under `.switchyard/cache.key`, made if absent.
   * `none` (a pool's worker, which must never hold that key): read the cache only when its
   * text hashes to `compiledSha256`, else compile the registry file; execute no cached
   * code, write nothing.
   * @default 'key'
   */
  readonly cacheTrust?: CacheTrust
  /**
   * With `cacheTrust: 'none'`: `sha256:<hex>` of the compiled registry's text as a process
   * holding the key verified it (verifiedCompiledSha256; a supervisor passes it to its
   * workers as SWITCHYARD_COMPILED_SHA256). Absent: the cache is not read at all (anyone
   * who can write `.switchyard/` could name the graph modules it loads).
   */
  readonly compiledSha256?: string
  /**
   * When each workflow's own files (schemas, graph module, prompt) are checked against
   * the compiled form. `first-use` (a process that routes): at load only the registry
   * file, the pools' env files and every symlink; a workflow's files before it is first
   * served (route(), `workflows.get()`, iterating), and a stale one rebuilds the registry
   * then, or throws its problems. `load`: every workflow now, so a broken one fails the
   * load (what a server that must not start on a broken registry wants).
   * @default 'first-use'
   */
  readonly check?: 'first-use' | 'load'
}

/**
 * Load a registry file (`switchyard.yaml` or `.json`). Synchronous and cheap:
 * a fresh compiled form in `.switchyard/` beside the file is one JSON.parse;
 * otherwise the file is parsed and checked (every problem reported at once, as a
 * RegistryError) and the compiled form is written for next time. Imports no graph.
 * A workflow's own files are checked before it is first served (`options.check`):
 * never served stale, a workflow whose files changed rebuilds the registry first.
 *
 * @example
 * const registry = loadRegistry('switchyard.yaml')
 * const plan = route(registry, { workflow: 'email.compose', input })
 */
export function loadRegistry(path: string, options: LoadOptions = {}): Registry {
  const source = resolve(path)
  const trust = options.cacheTrust ?? 'key'
  const cached = readCompiled(source, trust, options.compiledSha256)
  // Every workflow checked now: one stale, the registry is rebuilt (or its problems thrown) here, as for a stale registry file.
  if (cached && (options.check !== 'load' || cached.all())) {
    const { compiled, verified, fresh } = cached
    const { digest, schemas: schemasId } = compiled
    return hydrate(compiled, {
      // Cached code runs only from a cache whose MAC this process checked (issue 12.3).
      code: (id) => (verified ? readValidatorCode(source, id) : undefined),
      restore: (id, code) => {
        if (verified) restoreValidatorCode(source, id, code)
      },
      schemas: () => readSchemas(source, digest, schemasId) ?? schemasOf(source, digest, trust),
      // Checked all at once above (check: 'load'), or each before its first use.
      fresh: options.check === 'load' ? undefined : fresh,
      reload: () => {
        const rebuilt = compiledNow(source, trust)
        if (!rebuilt.compiled) throw new RegistryError(rebuilt.problems)
        return rebuilt.compiled
      },
    })
  }
  const { registry, problems } = rebuildRegistry(source, trust)
  if (!registry) throw new RegistryError(problems)
  return registry
}

/**
 * Parse and check the registry file now, ignoring any compiled form, and write
 * a new compiled form when it is clean (what `switchyard check` does; a process
 * loading with `cacheTrust: 'none'` writes nothing).
 */
export function rebuildRegistry(
  path: string,
  trust: CacheTrust = 'key',
): { registry: Registry | null; problems: readonly RegistryProblem[] } {
  const { compiled, problems } = compiledNow(resolve(path), trust)
  return compiled ? { registry: hydrate(compiled.compiled, compiled.store), problems: [] } : { registry: null, problems }
}

/** The registry file compiled now (and written, holding the key), with the store it serves from. */
function compiledNow(
  source: string,
  trust: CacheTrust,
): { compiled: { compiled: CompiledRegistry; store: RegistryStore } | null; problems: readonly RegistryProblem[] } {
  const { compiled, codes, schemas, hashes, problems } = compileRegistry(source)
  if (!compiled) return { compiled: null, problems }
  if (trust === 'key') writeCompiled(compiled, codes, schemas, hashes)
  return { compiled: { compiled, store: { code: (id) => codes.get(id), restore: () => undefined, schemas: () => schemas } }, problems: [] }
}

/** The schemas of a loaded registry whose table was removed or refused: rebuilt (and rewritten), if the files still say the same. */
function schemasOf(source: string, digest: string, trust: CacheTrust): SchemaTable {
  const { compiled, codes, schemas, hashes } = compileRegistry(source)
  if (compiled?.digest === digest) {
    if (trust === 'key') writeCompiled(compiled, codes, schemas, hashes)
    return schemas
  }
  throw new SwitchyardError('REGISTRY_INVALID', `registry ${source} changed since it was loaded (${digest}); load it again`)
}
