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
  // Serialised once, here, and parsed back: what is measured and validated is the copy that
  // leaves, never the graph's live object, which a getter, a Proxy or a timer of the graph
  // could change after the checks (it did: 1 MB past a 16kb maxOutput, and a schema-breaking
  // shape past the schema). One round trip of at most maxOutput bytes per run.
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
  // What the caller will receive (Dates as strings, undefined fields gone), not the live object.
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
