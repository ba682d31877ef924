// The PythonLint `switchyard check` uses: one `python3 -m switchyard_worker.lint FILE…`
// for every Python graph file (Python's own AST, python/switchyard_worker/lint.py).
import { spawnSync } from 'node:child_process'
import type { PythonFileLint, PythonLint } from '../control/tooling/index.js'
import { pythonPath, pythonProgram, SAFE_PATH } from '../data/supervisor/index.js'

/** Lint with this package's Python worker; a missing interpreter is each file's error, never a pass. */
export function pythonLint(env: Readonly<Record<string, string | undefined>> = process.env): PythonLint {
  return (files) => {
    const program = pythonProgram(env)
    const result = spawnSync(program.command, [SAFE_PATH, '-m', 'switchyard_worker.lint', ...files], {
      env: { ...env, PYTHONPATH: pythonPath(program, env.PYTHONPATH) },
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      timeout: 60_000,
    })
    let parsed: { files?: Record<string, PythonFileLint> } | undefined
    try {
      parsed = result.status === 0 ? (JSON.parse(result.stdout) as { files?: Record<string, PythonFileLint> }) : undefined
    } catch {
      parsed = undefined
    }
    if (!parsed?.files) {
      const why = result.error?.message ?? (result.stderr || '').trim().split('\n').pop() ?? `exit ${result.status}`
      const error = `Python graph module not checked: ${program.command} -m switchyard_worker.lint failed (${why}); install the worker: python3 -m pip install ./python`
      return new Map(files.map((file) => [file, { offences: [], names: [], error }]))
    }
    return new Map(Object.entries(parsed.files))
  }
}
