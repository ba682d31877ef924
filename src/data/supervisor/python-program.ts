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
 * Python's safe-path flag (3.11+): never put the working folder (`-m`) or the script's
 * folder first on sys.path. Without it a pool user who can write the folder `start` runs
 * in plants `switchyard_worker/` or `bullmq.py` there, and every Python pool's worker, of
 * any user, imports it: one pool's code in another's process.
 */
export const SAFE_PATH = '-P'

/**
 * The Python worker of this package: `python3 -P -m switchyard_worker --pool NAME --lifeline`
 * (the resolved registry from SWITCHYARD_REGISTRY, set by the supervisor).
 * SWITCHYARD_PYTHON picks another interpreter (a virtualenv's, say).
 */
export function pythonProgram(env: Readonly<Record<string, string | undefined>> = process.env): PythonProgram {
  // src/data/supervisor/ and dist/data/supervisor/ are both three levels below the package root, where python/ lives.
  const path = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'python')
  return {
    command: env.SWITCHYARD_PYTHON?.trim() || 'python3',
    args: (pool) => [SAFE_PATH, '-m', 'switchyard_worker', '--pool', pool.name, '--lifeline'],
    path,
  }
}

/**
 * PYTHONPATH for the program: its package first, then the folders the caller had. An empty
 * entry (`PYTHONPATH=$PYTHONPATH:/x` with it unset) means the working folder to Python, ahead
 * of the standard library, which would undo SAFE_PATH: empty entries are dropped.
 */
export function pythonPath(program: PythonProgram, existing: string | undefined = undefined): string {
  return [program.path, ...(existing ?? '').split(delimiter)].filter(Boolean).join(delimiter)
}

/**
 * Null when the interpreter imports the worker and its dependencies, else why not
 * (one line, with the install command). Takes about a tenth of a second: call it once.
 * `env` is the probe's whole environment: as a pool's user (`as`), give it what that
 * pool's worker gets, never the supervisor's own (its producer Redis URL, its tokens),
 * which any process of that user could read in /proc/PID/environ while it runs.
 */
export function probePython(
  program: PythonProgram,
  env: Readonly<Record<string, string | undefined>> = process.env,
  as: { readonly uid: number; readonly gid: number } | null = null,
): string | null {
  const probe = spawnSync(program.command, [SAFE_PATH, '-c', 'import switchyard_worker.__main__'], {
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
