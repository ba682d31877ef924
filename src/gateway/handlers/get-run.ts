// GET /v1/runs/{runId}: status, input (as the pool's capture allows), output or error,
// attempts, timings, trace id.
import { SwitchyardError } from '../../control/index.js'
import type { RunView } from '../../control/index.js'
import type { RunRecord } from '../../data/broker/index.js'
import { redactValue } from '../../observe/capture/index.js'
import { brokerError } from '../broker-error.js'
import { RUN_ID_HEADER, TRACE_ID_HEADER, sendJson, type GatewayDeps, type Handler } from '../exchange.js'
import { ECHOABLE_RUN_ID, isIssuedRunId } from '../run-id.js'
import { hasRole, mayReadRun, requireScope } from '../scopes.js'
import { toRunView } from './run-view.js'

export function getRun(deps: GatewayDeps): Handler {
  return async ({ res, params, known, caller }) => {
    // A caller that may neither read nor run anything is refused before any lookup, as a route of role `read` would.
    if (!hasRole(caller, 'read') && !hasRole(caller, 'run')) requireScope(caller, 'read')
    const runId = params.runId ?? ''
    // An id the gateway never issues (run-id.ts) is unknown: the broker is not asked (under Redis such an id
    // names BullMQ's own keys), and one that could not be a run id is not echoed back as the run's id.
    if (ECHOABLE_RUN_ID.test(runId)) known.runId = runId
    const record = isIssuedRunId(runId)
      ? await deps.broker.get(runId).catch((error: unknown) => {
          throw brokerError(deps.broker, error)
        })
      : null
    if (record === null)
      throw new SwitchyardError('UNKNOWN_RUN', `no run with id '${runId}' (finished runs are kept for a while, not forever)`)
    // Readers of its workflow, and the caller that started it (a `run` token polling its async run).
    if (!mayReadRun(caller, record)) requireScope(caller, 'read', { workflow: record.workflow, pool: record.pool })
    sendJson(
      res,
      200,
      { ...toRunView(record), ...inputView(deps, record) },
      {
        [RUN_ID_HEADER]: record.runId,
        ...(record.traceId ? { [TRACE_ID_HEADER]: record.traceId } : {}),
      },
    )
  }
}

/**
 * The run's input as its pool's `capture` lets anyone read it back: the same rule as its
 * spans (a `redacted` pool's input is masked here as in its traces; `none` shows nothing).
 */
function inputView(deps: GatewayDeps, record: RunRecord): Pick<RunView, 'input' | 'capture'> {
  const tracing = deps.registry.pools.get(record.pool)?.tracing
  // A run of a pool this registry no longer has: nothing says its input may be shown.
  const capture = tracing?.capture ?? 'none'
  if (tracing === undefined || capture === 'none' || record.input === undefined) return { capture }
  return { capture, input: capture === 'full' ? record.input : redactValue(record.input, tracing.redact) }
}
