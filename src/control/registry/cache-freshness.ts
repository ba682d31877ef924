// When the compiled registry may stand for its files (DESIGN §2.2: never a stale one):
// what the compiler records of each file it was built from, and the check every load
// makes against it. Stamped files (the registry and its schemas) are read by the
// compiler, so a changed byte must show: size, mtime, ctime and inode, bytes hashed
// when those cannot be trusted. Graph modules, prompts and env files must only still
// exist as what they were, inside the registry's folders: their folders are stamped
// instead, so one lstat per folder stands for every entry in it. Every folder on the
// way is checked to still be a folder, and every symlink to still resolve where it
// did, so no path reaches outside the folders the compiler checked it against.
import { basename, dirname, sep } from 'node:path'
import type * as Fs from 'node:fs'
import type { CompiledRegistry, ExistEntries, FolderStamps } from './compiled-registry.js'
import { builtin } from './node-builtins.js'

const { constants, lstatSync, realpathSync, statSync } = builtin<typeof Fs>('node:fs')
const { S_IFMT, S_IFREG, S_IFDIR, S_IFLNK } = constants

/**
 * A file whose mtime or ctime is this close to (or after) the build may have changed
 * after it was read, within one timestamp granule: its bytes are hashed instead of
 * trusting its stamp (the "racy clean" case git knows too); a folder's entries are
 * checked one by one.
 */
const RACY_MS = 1000

/** One options object for every stat: at a thousand files, per-call garbage adds up. */
const IF_EXISTS = { throwIfNoEntry: false } as const

type Stats = Fs.Stats

/** What lstat says a path is, as ExistEntries.kind spells it. */
function kindOf(stat: Stats): string {
  return stat.isFile() ? 'f' : stat.isDirectory() ? 'd' : stat.isSymbolicLink() ? 'l' : 'o'
}

/** The real path of a symlink, or '' when it resolves nowhere (never equal to a real path). */
function realOf(path: string): string {
  try {
    return realpathSync.native(path)
  } catch {
    return ''
  }
}

/**
 * What the compiled form records of the files it was built from (compile side): the
 * folders of the stamped files and `exist` entries, each entry's kind, and the real
 * path of every symlink among them. Folders are stamped after the files were checked:
 * one that changed since has an mtime past `builtAt`, and is checked entry by entry.
 */
export function stampFolders(
  stamped: readonly string[],
  exist: readonly string[],
): { folders: FolderStamps; exist: ExistEntries; links: Record<string, string> } {
  const links: Record<string, string> = {}
  for (const path of stamped) if (lstatSync(path, IF_EXISTS)?.isSymbolicLink()) links[path] = realOf(path)
  const index = new Map<string, number>()
  const folders = { path: [] as string[], ino: [] as number[], mtimeMs: [] as number[], ctimeMs: [] as number[] }
  const folderOf = (path: string): number => {
    const folder = dirname(path)
    const known = index.get(folder)
    if (known !== undefined) return known
    if (dirname(folder) !== folder) folderOf(folder) // parents first: the load meets them in path order
    const stat = lstatSync(folder)
    if (stat.isSymbolicLink()) links[folder] = realOf(folder)
    index.set(folder, folders.path.length)
    folders.path.push(folder)
    folders.ino.push(stat.ino)
    folders.mtimeMs.push(stat.mtimeMs)
    folders.ctimeMs.push(stat.ctimeMs)
    return folders.path.length - 1
  }
  for (const path of stamped) folderOf(path)
  const entries = { name: [] as string[], folder: [] as number[], kind: '' }
  for (const path of exist) {
    const stat = lstatSync(path, IF_EXISTS)
    const kind = stat ? kindOf(stat) : 'o'
    if (kind === 'l') links[path] = realOf(path)
    entries.folder.push(folderOf(path))
    entries.name.push(basename(path))
    entries.kind += kind
  }
  return { folders, exist: entries, links }
}

/** Stamps that moved while what they stand for did not: written back, so later loads trust them again. */
export interface Moved {
  /** Stamped files (index in `files`) whose bytes were hashed and found unchanged. */
  readonly files: ReadonlyMap<number, Stats>
  /** Folders (index in `folders`) whose entries were checked one by one and found unchanged. */
  readonly folders: ReadonlyMap<number, Stats>
}

/**
 * Whether every file the compiled registry was built from is unchanged and every path
 * it names still exists, as what it was (load side): the stamps that moved, or null
 * when stale. `sameBytes` hashes the stamped files whose stamp cannot be trusted.
 */
export function checkFreshness(compiled: CompiledRegistry, sameBytes: (files: ReadonlySet<number>) => boolean): Moved | null {
  const { files, folders, exist } = compiled
  const trustedBefore = compiled.builtAt - RACY_MS
  const links = new Map(Object.entries(compiled.links))
  // A link's target can move with nothing on the link's side changing: resolved each time.
  for (const [path, real] of links) if (real === '' || realOf(path) !== real) return null
  const linked = links.size > 0

  // The mode's type bits rather than isFile() and friends: a thousand calls apiece at cold start.
  const { path: paths, size, mtimeMs, ctimeMs, ino } = files
  let hashed: Map<number, Stats> | undefined
  for (let i = 0; i < paths.length; i++) {
    const path = paths[i] ?? ''
    let stat = lstatSync(path, IF_EXISTS)
    if (stat === undefined) return null
    const type = stat.mode & S_IFMT
    // A file replaced by a symlink (or a symlink by a file) may now be read from anywhere: rebuilt, and checked again.
    if (type !== S_IFREG) {
      if (type !== S_IFLNK || !links.has(path)) return null
      stat = statSync(path, IF_EXISTS)
      if (stat === undefined) return null
    } else if (linked && links.has(path)) return null
    if (stat.size !== size[i]) return null
    const m = mtimeMs[i] ?? NaN
    const c = ctimeMs[i] ?? NaN
    if (stat.mtimeMs !== m || stat.ctimeMs !== c || stat.ino !== ino[i] || m >= trustedBefore || c >= trustedBefore)
      (hashed ??= new Map()).set(i, stat)
  }

  const holds = new Uint8Array(folders.path.length)
  for (const k of exist.folder) holds[k] = 1
  let changed: Map<number, Stats | null> | undefined
  for (let k = 0; k < folders.path.length; k++) {
    const path = folders.path[k] ?? ''
    const stat = lstatSync(path, IF_EXISTS)
    if (stat === undefined) return null
    const type = stat.mode & S_IFMT
    const link = type === S_IFLNK
    if (link !== (linked && links.has(path)) || (!link && type !== S_IFDIR)) return null
    if (holds[k] === 0) continue
    // A symlinked folder's own stamp says nothing of its target's entries: those are always checked.
    if (link) (changed ??= new Map()).set(k, null)
    else if (moved(stat, folders, k, trustedBefore)) (changed ??= new Map()).set(k, stat)
  }
  if (changed && !sameEntries(folders, exist, changed)) return null
  if (hashed && !sameBytes(new Set(hashed.keys()))) return null

  const restamp = new Map<number, Stats>()
  for (const [k, stat] of changed ?? []) if (stat) restamp.set(k, stat)
  return { files: hashed ?? new Map(), folders: restamp }
}

/** Whether a folder's stamp moved, or was taken too close to the build to vouch for its entries. */
function moved(stat: Stats, folders: FolderStamps, k: number, trustedBefore: number): boolean {
  const mtimeMs = folders.mtimeMs[k] ?? NaN
  const ctimeMs = folders.ctimeMs[k] ?? NaN
  return (
    stat.ino !== folders.ino[k] ||
    stat.mtimeMs !== mtimeMs ||
    stat.ctimeMs !== ctimeMs ||
    mtimeMs >= trustedBefore ||
    ctimeMs >= trustedBefore
  )
}

/** Whether each `exist` entry in these folders is still there, as what it was. */
function sameEntries(folders: FolderStamps, exist: ExistEntries, changed: ReadonlyMap<number, unknown>): boolean {
  for (let i = 0; i < exist.folder.length; i++) {
    const k = exist.folder[i] ?? -1
    if (!changed.has(k)) continue
    const folder = folders.path[k] ?? ''
    const stat = lstatSync(`${folder}${folder.endsWith(sep) ? '' : sep}${exist.name[i] ?? ''}`, IF_EXISTS)
    if (!stat || kindOf(stat) !== exist.kind[i]) return false
  }
  return true
}

/**
 * The compiled form with the moved stamps written in, as of `checkedAt`; null when a
 * stamp is itself too recent to be trusted later (it is checked again next time).
 */
export function restamped(compiled: CompiledRegistry, found: Moved, checkedAt: number): CompiledRegistry | null {
  if (found.files.size === 0 && found.folders.size === 0) return null
  const recent = (stat: Stats) => stat.mtimeMs >= checkedAt - RACY_MS || stat.ctimeMs >= checkedAt - RACY_MS
  for (const stat of found.files.values()) if (recent(stat)) return null
  for (const stat of found.folders.values()) if (recent(stat)) return null
  const { files, folders } = compiled
  const pick = <T>(column: readonly T[], moved: ReadonlyMap<number, Stats>, field: (stat: Stats) => T): T[] =>
    column.map((value, i) => {
      const stat = moved.get(i)
      return stat ? field(stat) : value
    })
  return {
    ...compiled,
    builtAt: checkedAt,
    files: {
      ...files,
      mtimeMs: pick(files.mtimeMs, found.files, (s) => s.mtimeMs),
      ctimeMs: pick(files.ctimeMs, found.files, (s) => s.ctimeMs),
      ino: pick(files.ino, found.files, (s) => s.ino),
    },
    folders: {
      ...folders,
      mtimeMs: pick(folders.mtimeMs, found.folders, (s) => s.mtimeMs),
      ctimeMs: pick(folders.ctimeMs, found.folders, (s) => s.ctimeMs),
      ino: pick(folders.ino, found.folders, (s) => s.ino),
    },
  }
}
