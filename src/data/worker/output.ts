// A run's output leaves the worker as JSON and, when the workflow declares an output
// schema, only if it matches: callers get what the registry promises, or a run error
// naming the paths that do not fit (OUTPUT_INVALID, not retryable: the same graph on
// the same input most likely returns the same shape). The schema compiles on the
// first run of its workflow in this process (schemaCheckFor caches it by identity).
import { SwitchyardError } from '../../control/index.js'
import type { Workflow } from '../../control/index.js'
import { describeIssues, schemaCheckFor } from '../../graph/index.js'

/**
 * True when JSON.parse(JSON.stringify(value)) would give back an equal value: strings,
 * finite numbers, booleans, null, arrays of those and plain objects with no undefined
 * members, at most `depth` levels deep (deeper, or a cycle, is left to the round trip).
 * The common output (a few plain fields) then travels and is validated as it is,
 * without serialising it an extra time and parsing it back.
 */
function isPlainJson(value: unknown, depth = 32): boolean {
  if (value === null) return true
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true
    case 'number':
      return Number.isFinite(value)
    case 'object':
      break
    default:
      return false
  }
  if (depth === 0) return false
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!isPlainJson(value[i], depth - 1)) return false
    return true
  }
  const proto: unknown = Object.getPrototypeOf(value)
  if (proto !== Object.prototype && proto !== null) return false
  const record = value as Record<string, unknown>
  if ('toJSON' in record) return false
  for (const key in record) if (!isPlainJson(record[key], depth - 1)) return false
  return true
}

/** The output as it will travel (JSON), checked against `workflow.output` when there is one. */
export async function checkedOutput(workflow: Workflow, output: unknown): Promise<unknown> {
  if (isPlainJson(output)) return validated(workflow, output)
  let text: string | undefined
  try {
    text = JSON.stringify(output)
  } catch (error) {
    throw new SwitchyardError(
      'GRAPH_FAILED',
      `workflow '${workflow.name}' returned an output that is not JSON: ${(error as Error).message}`,
    )
  }
  if (text === undefined) return null
  if (workflow.output === null || workflow.output === true) return output
  // Check what the caller will receive (Dates as strings, undefined fields gone), not the live object.
  return validated(workflow, JSON.parse(text))
}

/** `sent` (plain JSON) if it matches the workflow's output schema; OUTPUT_INVALID naming the paths if not. */
async function validated(workflow: Workflow, sent: unknown): Promise<unknown> {
  if (workflow.output === null || workflow.output === true) return sent
  const issues =
    workflow.output === false
      ? [{ path: '/', message: 'no output is allowed (the schema is false)' }]
      : (await schemaCheckFor(workflow.output))(sent)
  if (issues.length > 0) {
    throw new SwitchyardError(
      'OUTPUT_INVALID',
      `workflow '${workflow.name}' returned an output that does not match its output schema: ${describeIssues(issues)}`,
    )
  }
  return sent
}
