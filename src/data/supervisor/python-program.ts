// How a Python pool worker is started: the interpreter, its arguments, and where the
// switchyard_worker package is. A machine without it is told so once, at start,
// rather than through a crash loop.
import { spawnSync } from 'node:child_process'
import { delimiter, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Pool } from '../../control/index.js'

/** How to start a Python pool worker. */
export interface PythonProgram {
  /** @default 'python3' */
  readonly command: string
  readonly args: (pool: Pool) => string[]
  /** Directory holding the switchyard_worker package (set as PYTHONPATH). */
  readonly path: string
}

/**
 * The Python worker of this package: `python3 -m switchyard_worker --pool NAME --lifeline`
 * (the resolved registry from SWITCHYARD_REGISTRY, set by the supervisor).
 * SWITCHYARD_PYTHON picks another interpreter (a virtualenv's, say).
 */
export function pythonProgram(env: Readonly<Record<string, string | undefined>> = process.env): PythonProgram {
  // src/data/supervisor/ and dist/data/supervisor/ are both three levels below the package root, where python/ lives.
  const path = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'python')
  return {
    command: env.SWITCHYARD_PYTHON?.trim() || 'python3',
    args: (pool) => ['-m', 'switchyard_worker', '--pool', pool.name, '--lifeline'],
    path,
  }
}

/** PYTHONPATH for the program: its package first, then whatever the caller had. */
export function pythonPath(program: PythonProgram, existing: string | undefined = undefined): string {
  return [program.path, existing].filter(Boolean).join(delimiter)
}

/**
 * Null when the interpreter imports the worker and its dependencies, else why not
 * (one line, with the install command). Takes about a tenth of a second: call it once.
 */
export function probePython(
  program: PythonProgram,
  env: Readonly<Record<string, string | undefined>> = process.env,
  as: { readonly uid: number; readonly gid: number } | null = null,
): string | null {
  const probe = spawnSync(program.command, ['-c', 'import switchyard_worker.__main__'], {
    env: { ...env, PYTHONPATH: pythonPath(program) },
    encoding: 'utf8',
    timeout: 30_000,
    // As the pool's user (start): an interpreter under /root (pyenv) is root's alone.
    ...(as ? { uid: as.uid, gid: as.gid } : {}),
  })
  if (probe.status === 0) return null
  const why = probe.error ? probe.error.message : (probe.stderr ?? '').trim().split('\n').pop()
  return `${program.command} cannot run the Python worker (${why}); install it: python3 -m pip install ./python (or set SWITCHYARD_PYTHON)`
}
