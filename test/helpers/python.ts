// Tests of Python pools need a python3 that imports the worker's dependencies. Outside CI a
// missing one skips the test and says how to install it; in CI it fails, since CI must run them.
import { spawnSync } from 'node:child_process'

/** The interpreter Python pools run with: SWITCHYARD_PYTHON, else python3 (as the supervisor picks it). */
export const PYTHON = process.env.SWITCHYARD_PYTHON?.trim() || 'python3'

/**
 * `false` when PYTHON imports every module named, else why not (a describe's `skip`).
 * @throws Error in CI, where these tests must run.
 * @example describe('a python pool', { skip: pythonSkip(['opentelemetry.sdk', 'jsonschema']) }, …)
 */
export function pythonSkip(modules: readonly string[], install = 'python3 -m pip install ./python'): string | false {
  const probe = spawnSync(PYTHON, ['-c', `import ${modules.join(', ')}`], { encoding: 'utf8' })
  if (probe.status === 0) return false
  const why = (probe.stderr || String(probe.error)).trim().split('\n').pop()
  const reason = `${PYTHON} cannot import ${modules.join(', ')} (${install}): ${why}`
  if (process.env.CI) throw new Error(`${reason}; CI must run this test`)
  return reason
}
