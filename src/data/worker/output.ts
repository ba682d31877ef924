// A run's output leaves the worker as JSON, no larger than its pool's maxOutput
// (OUTPUT_TOO_LARGE: the broker and the gateway hold every output whole, and one
// pool's oversized results must not cost the gateway its memory), and, when the
// workflow declares an output schema, only if it matches: callers get what the
// registry promises, or a run error naming the paths that do not fit (OUTPUT_INVALID,
// not retryable: the same graph on the same input most likely returns the same
// shape). A graph that returns nothing (undefined) sends null, checked like any
// other output. The schema compiles on the first run of its workflow in this
// process (schemaCheckFor caches it by identity).
import { SwitchyardError } from '../../control/index.js'
import type { Pool, Workflow } from '../../control/index.js'
import { describeIssues, schemaCheckFor } from '../../graph/index.js'

/** What JSON.stringify writes at most for one UTF-16 unit of a string: `\\u001f`. */
const MAX_BYTES_PER_UNIT = 6
/** What a number, `true`, `false` or `null` takes at most: `-1.2345678901234567e-308`. */
const MAX_SCALAR_BYTES = 24

/**
 * An upper bound on the bytes of `JSON.stringify(value)` (UTF-8) when `value` is plain
 * JSON — strings, finite numbers, booleans, null, arrays of those and plain objects
 * with no undefined members, at most `depth` levels deep — or -1 when it is not (a
 * Date, a class, undefined, too deep or a cycle: left to the round trip). The common
 * output (a few plain fields) then travels and is validated as it is, without
 * serialising it an extra time and parsing it back, and is known to fit maxOutput.
 */
function plainJsonBound(value: unknown, depth = 32): number {
  if (value === null) return MAX_SCALAR_BYTES
  switch (typeof value) {
    case 'string':
      return value.length * MAX_BYTES_PER_UNIT + 2
    case 'boolean':
      return MAX_SCALAR_BYTES
    case 'number':
      return Number.isFinite(value) ? MAX_SCALAR_BYTES : -1
    case 'object':
      break
    default:
      return -1
  }
  if (depth === 0) return -1
  let bytes = 2
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item = plainJsonBound(value[i], depth - 1)
      if (item < 0) return -1
      bytes += item + 1
    }
    return bytes
  }
  const proto: unknown = Object.getPrototypeOf(value)
  if (proto !== Object.prototype && proto !== null) return -1
  const record = value as Record<string, unknown>
  if ('toJSON' in record) return -1
  for (const key in record) {
    const item = plainJsonBound(record[key], depth - 1)
    if (item < 0) return -1
    bytes += key.length * MAX_BYTES_PER_UNIT + 3 + item + 1
  }
  return bytes
}

function tooLarge(workflow: Workflow, pool: Pick<Pool, 'name' | 'maxOutputBytes'>, bytes: number): SwitchyardError {
  return new SwitchyardError(
    'OUTPUT_TOO_LARGE',
    `workflow '${workflow.name}' returned ${bytes} bytes of JSON; pool '${pool.name}' allows at most ${pool.maxOutputBytes} (maxOutput)`,
  )
}

/**
 * The output as it will travel (JSON), no larger than the pool's maxOutput, and
 * checked against `workflow.output` when there is one.
 *
 * @throws SwitchyardError OUTPUT_TOO_LARGE, OUTPUT_INVALID, or GRAPH_FAILED for an output that is not JSON
 */
export async function checkedOutput(workflow: Workflow, pool: Pick<Pool, 'name' | 'maxOutputBytes'>, output: unknown): Promise<unknown> {
  const bound = plainJsonBound(output)
  if (bound >= 0 && bound <= pool.maxOutputBytes) return validated(workflow, output)
  let text: string | undefined
  try {
    text = JSON.stringify(output)
  } catch (error) {
    throw new SwitchyardError(
      'GRAPH_FAILED',
      `workflow '${workflow.name}' returned an output that is not JSON: ${(error as Error).message}`,
    )
  }
  // undefined (or a function) travels as null: the caller receives `null`, so that is what is checked.
  if (text === undefined) return validated(workflow, null, ' (it returned nothing: undefined)')
  const bytes = Buffer.byteLength(text)
  if (bytes > pool.maxOutputBytes) throw tooLarge(workflow, pool, bytes)
  if (bound >= 0) return validated(workflow, output)
  if (workflow.output === null || workflow.output === true) return output
  // Check what the caller will receive (Dates as strings, undefined fields gone), not the live object.
  return validated(workflow, JSON.parse(text))
}

/** `sent` (plain JSON) if it matches the workflow's output schema; OUTPUT_INVALID naming the paths if not. */
async function validated(workflow: Workflow, sent: unknown, note = ''): Promise<unknown> {
  if (workflow.output === null || workflow.output === true) return sent
  const issues =
    workflow.output === false
      ? [{ path: '/', message: 'no output is allowed (the schema is false)' }]
      : (await schemaCheckFor(workflow.output))(sent)
  if (issues.length > 0) {
    throw new SwitchyardError(
      'OUTPUT_INVALID',
      `workflow '${workflow.name}' returned an output that does not match its output schema${note}: ${describeIssues(issues)}`,
    )
  }
  return sent
}
