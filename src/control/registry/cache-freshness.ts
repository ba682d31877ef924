// When the compiled registry may stand for its files (DESIGN §2.2: never a stale one):
// what the compiler records of each file it was built from, and the check every load
// makes against it. Stamped files (the registry and its schemas) are read by the
// compiler, so a changed byte must show: size, mtime, ctime and inode, bytes hashed
// when those cannot be trusted. Graph modules, prompts and env files must only still
// exist as what they were, inside the registry's folders: their folders are stamped
// instead, so one lstat per folder stands for every entry in it. Every folder on the
// way is checked to still be a folder, and every symlink to still resolve where it
// did, so no path reaches outside the folders the compiler checked it against.
// The check is made in parts: at load what every workflow depends on (the registry
// file, the pools' env files, every symlink), and a workflow's own files before it is
// first served, so a process that routes to a few workflows checks those few.
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
 * folders of the stamped files and `exist` entries (each with its parent), each entry's
 * kind, and the real path of every symlink among them. Folders are stamped after the
 * files were checked: one that changed since has an mtime past `builtAt`, and is checked
 * entry by entry.
 */
export function stampFolders(
  stamped: readonly string[],
  exist: readonly string[],
): { folders: FolderStamps; fileFolder: number[]; exist: Omit<ExistEntries, 'pools'>; links: Record<string, string> } {
  const links: Record<string, string> = {}
  for (const path of stamped) if (lstatSync(path, IF_EXISTS)?.isSymbolicLink()) links[path] = realOf(path)
  const index = new Map<string, number>()
  const folders = { name: [] as string[], parent: [] as number[], ino: [] as number[], mtimeMs: [] as number[], ctimeMs: [] as number[] }
  const folderOf = (path: string): number => {
    const folder = dirname(path)
    const known = index.get(folder)
    if (known !== undefined) return known
    // Parents first: a check meets them before the folders inside them.
    const parent = dirname(folder) === folder ? -1 : folderOf(folder)
    const stat = lstatSync(folder)
    if (stat.isSymbolicLink()) links[folder] = realOf(folder)
    index.set(folder, folders.name.length)
    // By name in its parent: pathOf() joins them back, for the few folders a load checks.
    folders.name.push(parent === -1 ? folder : basename(folder))
    folders.parent.push(parent)
    folders.ino.push(stat.ino)
    folders.mtimeMs.push(stat.mtimeMs)
    folders.ctimeMs.push(stat.ctimeMs)
    return folders.name.length - 1
  }
  const fileFolder = stamped.map(folderOf)
  const entries = { name: [] as string[], folder: [] as number[], kind: '' }
  for (const path of exist) {
    const stat = lstatSync(path, IF_EXISTS)
    const kind = stat ? kindOf(stat) : 'o'
    if (kind === 'l') links[path] = realOf(path)
    entries.folder.push(folderOf(path))
    entries.name.push(basename(path))
    entries.kind += kind
  }
  return { folders, fileFolder, exist: entries, links }
}

/** Stamps that moved while what they stand for did not: written back, so later loads trust them again. */
export interface Moved {
  /** Stamped files (index in `files`) whose bytes were hashed and found unchanged. */
  readonly files: ReadonlyMap<number, Stats>
  /** Folders (index in `folders`) whose entries were checked one by one and found unchanged. */
  readonly folders: ReadonlyMap<number, Stats>
}

/** Not checked yet; checked and unchanged; checked, stamp moved, what it stands for unchanged. */
const UNCHECKED = 0
const SAME = 1
const MOVED = 2

/**
 * Whether the files the compiled registry was built from are unchanged and every path
 * it names still exists, as what it was (load side), checked in parts: `registry()` at
 * load (every symlink, the registry file, the pools' env files), `workflow(i)` on a
 * workflow's first use (its schema files, graph module and prompt), each file and folder
 * once, every folder on a path's way before the path. `sameBytes` hashes the stamped
 * files whose stamp cannot be trusted. A part found stale stays stale: the caller rebuilds.
 */
export class Freshness {
  readonly #compiled: CompiledRegistry
  readonly #sameBytes: (files: ReadonlyMap<number, string>) => boolean
  readonly #trustedBefore: number
  readonly #links: ReadonlyMap<string, string>
  readonly #linked: boolean
  readonly #file: Uint8Array
  readonly #folder: Uint8Array
  readonly #holds: Uint8Array
  /** Absolute path of each folder, joined from the names on first need (parents are checked first). */
  readonly #folderPath: string[] = []
  #entriesOf: Map<number, number[]> | undefined
  /** Stamps that moved while what they stand for did not (restamped() writes them back). */
  readonly moved: { readonly files: Map<number, Stats>; readonly folders: Map<number, Stats> } = { files: new Map(), folders: new Map() }
  /** Date.now() before the first check that found a moved stamp. */
  movedSince: number | undefined

  constructor(compiled: CompiledRegistry, sameBytes: (files: ReadonlyMap<number, string>) => boolean) {
    this.#compiled = compiled
    this.#sameBytes = sameBytes
    this.#trustedBefore = compiled.builtAt - RACY_MS
    this.#links = new Map(Object.entries(compiled.links))
    this.#linked = this.#links.size > 0
    this.#file = new Uint8Array(compiled.files.name.length)
    this.#folder = new Uint8Array(compiled.folders.name.length)
    this.#holds = new Uint8Array(compiled.folders.name.length)
    for (const k of compiled.exist.folder) this.#holds[k] = 1
  }

  /** At load: every symlink still resolves where it did, and the registry file and the pools' env files are unchanged. */
  registry(): boolean {
    // A link's target can move with nothing on the link's side changing: resolved each time.
    for (const [path, real] of this.#links) if (real === '' || realOf(path) !== real) return false
    return this.#check([0], this.#compiled.exist.pools)
  }

  /** Before workflow `i` (registry order) is first served: its schema files, graph module and prompt. */
  workflow(i: number): boolean {
    const { files, exist } = this.#compiled.workflows
    return this.#check(files[i] ?? [], exist[i] ?? [])
  }

  /** Everything, as a load that checks every workflow at once. */
  all(): boolean {
    const { files, folders, exist } = this.#compiled
    if (!this.registry()) return false
    const every = (n: number) => Array.from({ length: n }, (_, i) => i)
    for (let k = 0; k < folders.name.length; k++) if (!this.#checkFolder(k)) return false
    return this.#check(every(files.name.length), every(exist.name.length))
  }

  #check(files: readonly number[], entries: readonly number[]): boolean {
    const startedAt = Date.now()
    const moved = this.moved.files.size + this.moved.folders.size
    let hashed: Map<number, Stats> | undefined
    let hashedPaths: Map<number, string> | undefined
    for (const i of files) {
      if (this.#file[i] !== UNCHECKED) continue
      const stat = this.#stampedFile(i)
      if (stat === null) return false
      if (stat !== undefined) {
        ;(hashed ??= new Map()).set(i, stat)
        ;(hashedPaths ??= new Map()).set(i, this.#filePath(i))
      } else this.#file[i] = SAME
    }
    const { folder } = this.#compiled.exist
    for (const e of entries) if (!this.#checkFolder(folder[e] ?? -1)) return false
    if (hashed && hashedPaths) {
      if (!this.#sameBytes(hashedPaths)) return false
      for (const [i, stat] of hashed) {
        this.#file[i] = MOVED
        this.moved.files.set(i, stat)
      }
    }
    if (this.moved.files.size + this.moved.folders.size > moved) this.movedSince ??= startedAt
    return true
  }

  /**
   * A stamped file: undefined when its stamp holds, its Stats when its bytes must be
   * hashed (the stamp moved, or is too recent to trust), null when stale.
   */
  #stampedFile(i: number): Stats | undefined | null {
    const { size, mtimeMs, ctimeMs, ino, folder } = this.#compiled.files
    if (!this.#checkFolder(folder[i] ?? -1)) return null
    const path = this.#filePath(i)
    let stat = lstatSync(path, IF_EXISTS)
    if (stat === undefined) return null
    // The mode's type bits rather than isFile() and friends: a thousand calls apiece at cold start.
    const type = stat.mode & S_IFMT
    // A file replaced by a symlink (or a symlink by a file) may now be read from anywhere: rebuilt, and checked again.
    if (type !== S_IFREG) {
      if (type !== S_IFLNK || !this.#links.has(path)) return null
      stat = statSync(path, IF_EXISTS)
      if (stat === undefined) return null
    } else if (this.#linked && this.#links.has(path)) return null
    if (stat.size !== size[i]) return null
    const m = mtimeMs[i] ?? NaN
    const c = ctimeMs[i] ?? NaN
    const trusted = this.#trustedBefore
    return stat.mtimeMs !== m || stat.ctimeMs !== c || stat.ino !== ino[i] || m >= trusted || c >= trusted ? stat : undefined
  }

  /** A folder (its parents first) is still a folder (or the symlink it was), and vouches for its entries or has them checked. */
  #checkFolder(k: number): boolean {
    const { folders } = this.#compiled
    if (k < 0 || k >= folders.name.length) return false
    if (this.#folder[k] !== UNCHECKED) return true
    const parent = folders.parent[k] ?? -1
    // A parent at or after its child is not a shape the compiler writes: stale, so never a loop.
    if (parent >= k || (parent !== -1 && !this.#checkFolder(parent))) return false
    const path = this.#pathOf(k)
    const stat = lstatSync(path, IF_EXISTS)
    if (stat === undefined) return false
    const type = stat.mode & S_IFMT
    const link = type === S_IFLNK
    if (link !== (this.#linked && this.#links.has(path)) || (!link && type !== S_IFDIR)) return false
    if (this.#holds[k] === 1) {
      // A symlinked folder's own stamp says nothing of its target's entries: those are always checked.
      const changed = link || moved(stat, folders, k, this.#trustedBefore)
      if (changed && !this.#sameEntries(k)) return false
      if (changed && !link) {
        this.moved.folders.set(k, stat)
        this.#folder[k] = MOVED
        return true
      }
    }
    this.#folder[k] = SAME
    return true
  }

  /** Absolute path of folder `k`: its parent's and its name (the topmost one's name is its path). */
  #pathOf(k: number): string {
    const known = this.#folderPath[k]
    if (known !== undefined) return known
    const { name, parent } = this.#compiled.folders
    const up = parent[k] ?? -1
    // Parents come first (a parent's index is below its child's; #checkFolder refuses other shapes).
    const path = up === -1 || up >= k ? (name[k] ?? '') : joined(this.#pathOf(up), name[k] ?? '')
    this.#folderPath[k] = path
    return path
  }

  /** Absolute path of stamped file `i`: its folder's and its name. */
  #filePath(i: number): string {
    const { name, folder } = this.#compiled.files
    return joined(this.#pathOf(folder[i] ?? -1), name[i] ?? '')
  }

  /** Whether each `exist` entry in folder `k` is still there, as what it was. */
  #sameEntries(k: number): boolean {
    const { exist } = this.#compiled
    if (this.#entriesOf === undefined) {
      this.#entriesOf = new Map()
      exist.folder.forEach((folder, e) => {
        const list = this.#entriesOf?.get(folder)
        if (list) list.push(e)
        else this.#entriesOf?.set(folder, [e])
      })
    }
    const folder = this.#pathOf(k)
    for (const e of this.#entriesOf.get(k) ?? []) {
      const stat = lstatSync(joined(folder, exist.name[e] ?? ''), IF_EXISTS)
      if (!stat || kindOf(stat) !== exist.kind[e]) return false
    }
    return true
  }
}

/** `name` in `folder`, joined by hand (path.join would normalise what is already normal; a root ends in sep). */
function joined(folder: string, name: string): string {
  return `${folder}${folder.endsWith(sep) ? '' : sep}${name}`
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
