// `switchyard dev --watch`: the registry's folder is watched (registry file, graph modules,
// prompts, schemas, env files); a change, once the editor is done writing (debounced),
// reloads the registry and restarts the pools, and one line says what happened.
// Change notification is not something every machine has: some container filesystems
// deliver no inotify events, and on Node 20 Linux a recursive fs.watch is a JS layer over
// per-file inotify watches. So the one source of truth is a bounded stat scan of the
// folder, compared with what was last reported; fs.watch only makes the scan run sooner,
// and an interval runs it anyway. One save is one report whichever path saw it first.
// (chokidar 6 needs Node 22; chokidar 4 is either fs.watch or fs.watchFile per file, with
// no way to notice that fs.watch delivers nothing, which is the failure this guards against.)
// Without --watch, a workflow that is in the registry file on disk but not in the loaded
// registry gets a hint to restart (registryHint).
import { readdirSync, statSync, watch, type FSWatcher } from 'node:fs'
import { join, relative, sep } from 'node:path'
import { loadRegistry } from '../control/index.js'
import type { Registry } from '../control/index.js'

/** Folders whose changes are not the user's edits (our own caches, dependencies, VCS). */
const IGNORED = new Set([
  '.switchyard',
  'node_modules',
  '.git',
  'dist',
  '__pycache__',
  '.venv',
  '.mypy_cache',
  '.pytest_cache',
  '.ruff_cache',
])

/**
 * Editors' lock, swap, backup and temp files (and vim's numbered write probe), and log
 * files (`switchyard dev --watch > dev.log` in the registry's folder would reload on every
 * line it prints): never an edit.
 */
function isEditorTemp(base: string): boolean {
  return base.startsWith('.#') || base.endsWith('~') || /\.(swp|swx|tmp|log)$/.test(base) || /^\d+$/.test(base)
}

export interface RegistryWatcher {
  close(): void
}

export interface WatchFolderOptions {
  /** Quiet time after the last change before it is reported. @default 250 */
  debounceMs?: number
  /** How often the folder is scanned whether or not fs.watch said anything. @default 1000 */
  intervalMs?: number
  /** Use fs.watch to scan sooner; false reproduces a machine whose filesystem sends no events. @default true */
  fsWatch?: boolean
  /** Files scanned at most (a registry folder is small; this bounds a mistaken root such as $HOME). @default 5000 */
  maxFiles?: number
  /** Told once when the folder holds more than maxFiles files (the rest are not watched). */
  onLimit?: (maxFiles: number) => void
}

/** What a file looks like to stat: a save changes mtime/ctime/size, an atomic rename the inode. */
type Snapshot = Map<string, string>

/** The files under `root` (relative paths, sorted walk so the bound always keeps the same ones) and their signatures. */
function scan(root: string, maxFiles: number, onLimit: () => void): Snapshot {
  const files: Snapshot = new Map()
  const walk = (dir: string): void => {
    let entries
    try {
      entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))
    } catch {
      return // removed while we looked, or unreadable: its files count as gone
    }
    for (const entry of entries) {
      if (files.size >= maxFiles) {
        onLimit()
        return
      }
      const path = join(dir, entry.name)
      if (entry.isDirectory()) {
        if (!IGNORED.has(entry.name)) walk(path) // a symlinked folder is not followed: no loops
      } else if (!isEditorTemp(entry.name)) {
        try {
          const s = statSync(path)
          files.set(relative(root, path), `${s.mtimeMs}:${s.ctimeMs}:${s.size}:${s.ino}`)
        } catch {
          // gone between readdir and stat: the next scan reports it removed
        }
      }
    }
  }
  walk(root)
  return files
}

/** Files added, removed or changed between two snapshots, sorted. */
function changedFiles(before: Snapshot, after: Snapshot): string[] {
  const changed = [...after].filter(([file, signature]) => before.get(file) !== signature).map(([file]) => file)
  const removed = [...before.keys()].filter((file) => !after.has(file))
  return [...changed, ...removed].sort()
}

function sameSnapshot(a: Snapshot, b: Snapshot): boolean {
  return a.size === b.size && [...a].every(([file, signature]) => b.get(file) === signature)
}

/**
 * Call `onChange` with the files changed under `root` (relative paths) since the last call,
 * once they have been quiet for `debounceMs`; editors' swap and backup files and the
 * IGNORED folders are not changes.
 *
 * @example const watcher = watchFolder(registry.root, (files) => void reload(files))
 */
export function watchFolder(root: string, onChange: (files: string[]) => void, options: WatchFolderOptions = {}): RegistryWatcher {
  const { debounceMs = 250, intervalMs = 1000, fsWatch = true, maxFiles = 5000 } = options
  let limited = false
  const limit = (): void => {
    if (!limited) options.onLimit?.(maxFiles)
    limited = true
  }
  let reported = scan(root, maxFiles, limit)
  let seen = reported
  let seenAt = Date.now()
  let settle: NodeJS.Timeout | undefined
  let closed = false

  // Report only once a scan finds what a scan at least debounceMs earlier found (the editor
  // is done writing); the report is the difference from the last report, so whichever path
  // ran the scan, one save is reported once.
  const check = (): void => {
    if (closed) return
    const now = scan(root, maxFiles, limit)
    const files = changedFiles(reported, now)
    if (files.length > 0 && sameSnapshot(seen, now) && Date.now() - seenAt >= debounceMs) {
      reported = now
      onChange(files)
      return
    }
    if (!sameSnapshot(seen, now)) {
      seen = now
      seenAt = Date.now()
    }
    if (files.length > 0) soon()
  }
  const soon = (): void => {
    clearTimeout(settle)
    settle = setTimeout(check, debounceMs).unref()
  }

  const interval = setInterval(check, intervalMs).unref()
  let watcher: FSWatcher | undefined
  if (fsWatch) {
    try {
      watcher = watch(root, { recursive: true }, (_event, name) => {
        const parts = name === null ? [] : name.toString().split(sep)
        if (parts.some((part) => IGNORED.has(part)) || isEditorTemp(parts[parts.length - 1] ?? '')) return
        soon()
      })
      watcher.on('error', () => undefined) // the interval's scan carries on
    } catch {
      watcher = undefined // no watch on this filesystem (ENOSPC on inotify watches, ENOSYS): the interval suffices
    }
  }
  return {
    close() {
      closed = true
      clearTimeout(settle)
      clearInterval(interval)
      watcher?.close()
    },
  }
}

/** What changed between two registries, in words: `+lead.summary, −old.flow, email.compose changed`. */
export function registryChanges(before: Registry, after: Registry): string {
  const added = [...after.workflows.keys()].filter((name) => !before.workflows.has(name))
  const removed = [...before.workflows.keys()].filter((name) => !after.workflows.has(name))
  const parts = [...added.map((name) => `+${name}`), ...removed.map((name) => `−${name}`)]
  if (before.digest !== after.digest && parts.length === 0) parts.push('settings changed')
  return parts.length ? parts.join(', ') : 'registry unchanged'
}

/**
 * The UNKNOWN_WORKFLOW hint of a `switchyard dev` without --watch: when the registry file
 * on disk (read again only when its size or mtime changed) names the workflow, say to restart.
 */
export function registryHint(path: string, loaded: Registry): (workflow: string) => string | undefined {
  let seen = stamp(path)
  let onDisk: Registry | null = loaded
  return (workflow) => {
    const now = stamp(path)
    if (now !== seen) {
      seen = now
      try {
        onDisk = loadRegistry(path)
      } catch {
        onDisk = null // a registry that does not load names nothing; `switchyard check` says why
      }
    }
    if (onDisk === null || onDisk === loaded || !onDisk.workflows.has(workflow)) return undefined
    const file = relative(process.cwd(), path) || path
    return `It is in ${file} on disk, but this switchyard dev loaded the registry before it was added: restart it, or run npx switchyard dev --watch to reload on every change.`
  }
}

function stamp(path: string): string {
  try {
    const s = statSync(path)
    return `${s.size}:${s.mtimeMs}`
  } catch {
    return 'missing'
  }
}
