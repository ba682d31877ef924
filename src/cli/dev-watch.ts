// `switchyard dev --watch`: the registry's folder is watched (registry file, graph modules,
// prompts, schemas, env files); a change, once the editor is done writing (debounced),
// reloads the registry and restarts the pools, and one line says what happened.
// Without --watch, a workflow that is in the registry file on disk but not in the loaded
// registry gets a hint to restart (registryHint).
import { statSync, watch, type FSWatcher } from 'node:fs'
import { relative, sep } from 'node:path'
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

export interface RegistryWatcher {
  close(): void
}

/**
 * Call `onChange` with the files changed under `root` (relative paths), at most once per
 * `debounceMs` of quiet; editors' swap and backup files are not changes.
 *
 * @example const watcher = watchFolder(registry.root, (files) => void reload(files))
 */
export function watchFolder(root: string, onChange: (files: string[]) => void, debounceMs = 250): RegistryWatcher {
  const pending = new Set<string>()
  let timer: NodeJS.Timeout | undefined
  const watcher: FSWatcher = watch(root, { recursive: true }, (_event, name) => {
    if (name === null) return
    const file = name.toString()
    const parts = file.split(sep)
    if (parts.some((part) => IGNORED.has(part))) return
    const base = parts[parts.length - 1] ?? ''
    if (base.startsWith('.#') || base.endsWith('~') || /\.(swp|swx|tmp)$/.test(base) || /^\d+$/.test(base)) return
    pending.add(file)
    clearTimeout(timer)
    timer = setTimeout(() => {
      const files = [...pending].sort()
      pending.clear()
      onChange(files)
    }, debounceMs)
  })
  watcher.on('error', () => undefined)
  return {
    close() {
      clearTimeout(timer)
      watcher.close()
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
    return `It is in ${file} on disk, but this switchyard dev loaded the registry before it was added: restart it, or run switchyard dev --watch to reload on every change.`
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
