// A run's output leaves the worker as JSON and, when the workflow declares an output
// schema, only if it matches: callers get what the registry promises, or a run error
// naming the paths that do not fit (OUTPUT_INVALID, not retryable: the same graph on
// the same input most likely returns the same shape). The schema compiles on the
// first run of its workflow in this process (validatorFor caches it by identity).
import { SwitchyardError } from '../control/errors.js'
import type { Workflow } from '../control/types.js'
import { describeIssues, validatorFor } from '../graph/index.js'

/** The output as it will travel (JSON), checked against `workflow.output` when there is one. */
export async function checkedOutput(workflow: Workflow, output: unknown): Promise<unknown> {
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
  // Validate what the caller will receive (Dates as strings, undefined fields gone), not the live object.
  const sent: unknown = JSON.parse(text)
  const issues =
    workflow.output === false
      ? [{ path: '/', message: 'no output is allowed (the schema is false)' }]
      : (await validatorFor(workflow.output))(sent)
  if (issues.length > 0) {
    throw new SwitchyardError(
      'OUTPUT_INVALID',
      `workflow '${workflow.name}' returned an output that does not match its output schema: ${describeIssues(issues)}`,
    )
  }
  return sent
}
