// The compiled registry's cache on disk, in `.switchyard/` beside the registry file:
//   .switchyard/<registry file>.compiled.json   pools, workflows, file stamps
//   .switchyard/hashes/<id>.json                 sha256 per stamped file, read only when a stamp cannot be trusted
//   .switchyard/schemas/<digest>.json            schemas, read on first use (route() never needs them)
//   .switchyard/validators/<hash>.cjs            one input validator each, read on first route()
//   .switchyard/cache.key                        the operator's MAC key (cache-trust.ts), mode 0600
// A compiled form is used only when every file it was built from is unchanged
// (DESIGN §2.2: never a stale one; cache-freshness.ts: the registry file at load, a
// workflow's own files before its first use), and, in a process that holds the key, only when its
// MAC matches; in one that does not (a pool's worker), only when its text hashes to the SHA-256
// a process holding the key verified and passed on (its supervisor), else never; every file it
// names must hash to the id it names it by (issue 12.3).
// Written and swept as cache-files.ts says: never through a symlink planted in the folder.
import { basename, dirname, join, sep } from 'node:path'
import type * as Fs from 'node:fs'
import { COMPILED_FORMAT, type CompiledRegistry, type SchemaTable } from './compiled-registry.js'
import { MAC_PREFIX, cacheKey, contentId, macMatches, macOf, refuse } from './cache-trust.js'
import { Freshness, restamped } from './cache-freshness.js'
import { cacheFolder, removeOld, writeAtomically } from './cache-files.js'
import { builtin, sha256 } from './node-builtins.js'

const { readFileSync } = builtin<typeof Fs>('node:fs')

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

/**
 * Whether this process holds the cache key: it then trusts (and writes) only a compiled
 * registry whose MAC matches. A worker loads without it: it reads the cache only when its
 * text is the one a process holding the key verified (the SHA-256 its supervisor passes,
 * verifiedCompiledSha256), never executes cached code and never writes.
 */
export type CacheTrust = 'key' | 'none'

/** A compiled registry read from the cache, and whether its MAC was checked under the key. */
export interface CachedRegistry {
  readonly compiled: CompiledRegistry
  readonly verified: boolean
  /**
   * Whether workflow `i`'s own files (schemas, graph module, prompt) are still what the
   * compiled form says: asked before the workflow is first served (false: rebuild).
   */
  readonly fresh: (i: number) => boolean
  /** Whether every workflow's files are still what the compiled form says (a load that checks them all now). */
  readonly all: () => boolean
}

/** The compiled registry's text, or null when it cannot be read (none yet). */
function compiledText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return null
  }
}

/**
 * The cached compiled registry for `source`, or null when absent, foreign, stale, (holding
 * the key) not authentic, or (without it) not the text whose SHA-256 is `verified`: a
 * process without the key has no way to tell an authentic cache from one written by anyone
 * who can write `.switchyard/` (a pool's graph), which could name any graph module.
 */
export function readCompiled(source: string, trust: CacheTrust, verified?: string): CachedRegistry | null {
  // Without the key and with no digest a keyed process vouched for: compiled from the registry file instead.
  if (trust === 'none' && verified === undefined) return null
  const paths = cachePaths(source)
  const text = compiledText(paths.compiled)
  if (text === null || (trust === 'none' && sha256(text) !== verified)) return null
  const signed = text.startsWith(MAC_PREFIX)
  const newline = signed ? text.indexOf('\n') : -1
  const body = signed ? text.slice(newline + 1) : text
  let compiled: CompiledRegistry
  try {
    compiled = JSON.parse(body) as CompiledRegistry
    if (compiled.format !== COMPILED_FORMAT || compiled.source !== source) return null
  } catch {
    return null
  }
  if (trust === 'key') {
    const key = cacheKey(paths.dir, false)
    if (!signed || newline === -1 || key === null) {
      refuse('unsigned', paths.compiled)
      return null
    }
    if (!macMatches(key, body, text.slice(0, newline))) {
      refuse('mac', paths.compiled)
      return null
    }
  }
  try {
    const check = freshnessOf(paths, compiled, trust)
    return check.registry() ? { compiled, verified: trust === 'key', fresh: check.workflow, all: check.all } : null
  } catch {
    // Not the shape its format says (edited by hand, say): rebuilt.
    return null
  }
}

/**
 * `sha256:<hex>` of the compiled registry's text on disk when its MAC matches under this
 * process's key, else null: what a supervisor holding the key gives each worker it starts
 * (SWITCHYARD_COMPILED_SHA256), so the worker, which never holds the key, reads exactly the
 * text verified here, or compiles the registry file itself (readCompiled). Neither creates
 * a key nor writes anything.
 */
export function verifiedCompiledSha256(source: string): string | null {
  const paths = cachePaths(source)
  const text = compiledText(paths.compiled)
  if (text === null) return null
  const newline = text.indexOf('\n')
  const key = cacheKey(paths.dir, false)
  if (!text.startsWith(MAC_PREFIX) || newline === -1 || key === null) return null
  return macMatches(key, text.slice(newline + 1), text.slice(0, newline)) ? sha256(text) : null
}

/**
 * The freshness checks of a compiled registry (cache-freshness.ts): the registry file, the
 * pools' env files and every symlink at load; each workflow's own files before its first
 * use. Stamps that moved over unchanged bytes and entries are written back once every
 * file has been checked, so later loads are back to trusting them.
 */
function freshnessOf(
  paths: CachePaths,
  compiled: CompiledRegistry,
  trust: CacheTrust,
): { registry: () => boolean; workflow: (i: number) => boolean; all: () => boolean } {
  const freshness = new Freshness(compiled, (files) => sameBytes(paths, compiled, files))
  let restampedOnce = false
  const restamp = (fresh: boolean): boolean => {
    if (!fresh || trust !== 'key' || restampedOnce || freshness.movedSince === undefined) return fresh
    restampedOnce = true
    // Written back only once every stamp has been checked: a later `builtAt` must not vouch
    // for a stamp nobody looked at. The whole check is paid once, after a checkout or a touch.
    try {
      const next = freshness.all() ? restamped(compiled, freshness.moved, freshness.movedSince) : null
      if (next) writeCompiled(next, new Map(), null, null)
    } catch {
      // Not writable, or a file changed while checked: this load stays as it was.
    }
    return fresh
  }
  return {
    registry: () => restamp(freshness.registry()),
    workflow: (i) => {
      try {
        return restamp(freshness.workflow(i))
      } catch {
        return false
      }
    },
    all: () => {
      try {
        return restamp(freshness.all())
      } catch {
        return false
      }
    },
  }
}

/** Whether each of these files (index in `compiled.files` → absolute path) still holds the bytes it was compiled from. */
function sameBytes(paths: CachePaths, compiled: CompiledRegistry, files: ReadonlyMap<number, string>): boolean {
  let hashes: readonly string[]
  try {
    const text = readFileSync(hashesFile(paths, compiled.files.hashes), 'utf8')
    // Content-addressed: hashes that are not the ones the compiled form names prove nothing.
    if (contentId(text) !== compiled.files.hashes) return false
    hashes = JSON.parse(text) as string[]
  } catch {
    return false
  }
  for (const [i, path] of files) {
    let bytes: Buffer
    try {
      bytes = readFileSync(path)
    } catch {
      return false
    }
    if (hashes[i] === undefined || sha256(bytes) !== hashes[i]) return false
  }
  return true
}

/**
 * Write the compiled registry (its MAC first, under the cache key, made if there is
 * none), its validators and (unless null) its schema table and file hashes; false
 * when the folder is not writable or no key can be had (loading then simply rebuilds).
 * Only a process that holds the key writes (CacheTrust).
 */
export function writeCompiled(
  compiled: CompiledRegistry,
  codes: ReadonlyMap<string, string>,
  schemas: SchemaTable | null,
  hashes: readonly string[] | null,
): boolean {
  const paths = cachePaths(compiled.source)
  try {
    const key = cacheKey(paths.dir, true)
    if (key === null) return false
    cacheFolder(paths.validators)
    cacheFolder(paths.schemas)
    cacheFolder(paths.hashes)
    for (const [id, code] of codes) writeValidator(paths, id, code)
    if (schemas) {
      const current = schemasFile(paths, compiled.digest)
      writeAtomically(current, JSON.stringify(schemas))
      removeOld(paths.schemas, basename(current), 64)
    }
    if (hashes) {
      const current = hashesFile(paths, compiled.files.hashes)
      writeAtomically(current, JSON.stringify(hashes))
      removeOld(paths.hashes, basename(current), 32)
    }
    const body = JSON.stringify(compiled)
    writeAtomically(paths.compiled, `${macOf(key, body)}\n${body}`)
    return true
  } catch {
    return false
  }
}

/** The schema table of the registry with this digest, or undefined when it is gone or is not the table `id` names. */
export function readSchemas(source: string, digest: string, id: string): SchemaTable | undefined {
  const file = schemasFile(cachePaths(source), digest)
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch {
    return undefined
  }
  if (contentId(text) !== id) {
    refuse('schemas', file)
    return undefined
  }
  return JSON.parse(text) as SchemaTable
}

/**
 * Reads a validator's code by id, or undefined when the file is gone or its code
 * is not the code the id names (refused and counted: never executed).
 */
export function readValidatorCode(source: string, id: string): string | undefined {
  const file = `${cachePaths(source).validators}${sep}${id}.cjs`
  let code: string
  try {
    code = readFileSync(file, 'utf8')
  } catch {
    return undefined
  }
  if (contentId(code) === id) return code
  refuse('validator', file)
  return undefined
}

/** Puts a validator's code back under its id (after a refusal); only code that hashes to it. */
export function restoreValidatorCode(source: string, id: string, code: string): void {
  try {
    const paths = cachePaths(source)
    cacheFolder(paths.validators)
    writeValidator(paths, id, code)
  } catch {
    // Not writable: the next process compiles it again.
  }
}

/** Content-addressed: a file already holding this id's code is kept; anything else there is replaced. */
function writeValidator(paths: CachePaths, id: string, code: string): void {
  if (contentId(code) !== id) return
  const file = join(paths.validators, `${id}.cjs`)
  let held: string | undefined
  try {
    held = readFileSync(file, 'utf8')
  } catch {
    held = undefined
  }
  if (held !== code) writeAtomically(file, code)
}
