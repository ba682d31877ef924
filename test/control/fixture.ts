// Disposable registry folders for control-plane tests.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { loadRegistry, RegistryError, type Registry, type RegistryProblem } from '../../src/control/index.js'

export interface Folder {
  readonly dir: string
  /** Absolute path of a file in the folder. */
  path(name: string): string
  write(name: string, text: string): string
  remove(): void
}

/** A temp folder with the given files (a graph module is always present). */
export function folder(files: Record<string, string> = {}): Folder {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-control-'))
  const make: Folder = {
    dir,
    path: (name) => join(dir, name),
    write(name, text) {
      const file = join(dir, name)
      mkdirSync(dirname(file), { recursive: true })
      writeFileSync(file, text)
      return file
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  }
  make.write('wf/graph.ts', 'export const graph = () => (input: unknown) => input\n')
  for (const [name, text] of Object.entries(files)) make.write(name, text)
  return make
}

export const POOLS_YAML = `pools:
  email:
    concurrency: 8
    timeout: 2m
    tracing: { project: sales-email, sampleRate: 1.0, capture: full }
  classify:
    timeout: 20s
`

/** The problems a loader call reports, as `line:column message` (file checked separately). */
export function problemsOf(load: () => unknown): RegistryProblem[] {
  try {
    load()
  } catch (error) {
    if (error instanceof RegistryError) return [...error.problems]
    throw error
  }
  throw new Error('expected a RegistryError')
}

export function lines(problems: readonly RegistryProblem[]): string[] {
  return problems.map((p) => `${p.line}:${p.column} ${p.message}`)
}

/**
 * A registry as a process uses it: loaded, then every workflow looked up, each
 * checked against its files on that first use (loadRegistry's default `check`).
 */
export function loadAndUse(file: string): Registry {
  const registry = loadRegistry(file)
  registry.workflows.forEach(() => undefined)
  return registry
}
