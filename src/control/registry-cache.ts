// The compiled registry on disk: `.switchyard/<registry file>.compiled.json`
// beside the registry, plus one small file per input validator. A cache entry
// is used only when every file it was built from is unchanged (DESIGN §2.2:
// never a stale one).
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { sha256 } from './canonical-json.js'
import { COMPILED_FORMAT, type CompiledRegistry, type FileStamp, type SchemaTable } from './compiled-registry.js'

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
    const stat = statSync(stamp.path, { throwIfNoEntry: false })
    if (!stat || stat.size !== stamp.size) return null
    if (stat.mtimeMs === stamp.mtimeMs && stat.mtimeMs < compiled.builtAt - RACY_MS) {
      files.push(stamp)
      continue
    }
    let bytes: Buffer
    try {
      bytes = readFileSync(stamp.path)
    } catch {
      return null
    }
    if (sha256(bytes) !== stamp.hash) return null
    hashed = true
    files.push({ ...stamp, size: bytes.length, mtimeMs: stat.mtimeMs })
  }
  // Unchanged bytes behind new or too-recent mtimes: restamp, so later loads
  // are back to one stat per file.
  if (hashed && files.every((f) => f.mtimeMs < checkedAt - RACY_MS)) {
    writeCompiled({ ...compiled, builtAt: checkedAt, files }, new Map(), null)
  }
  return compiled
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
