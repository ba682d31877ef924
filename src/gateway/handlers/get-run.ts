// GET /v1/runs/{runId}: status, output or error, attempts, timings, trace id.
import { SwitchyardError } from '../../control/index.js'
import { brokerError } from '../broker-error.js'
import { RUN_ID_HEADER, TRACE_ID_HEADER, sendJson, type GatewayDeps, type Handler } from '../exchange.js'
import { toRunView } from './run-view.js'

const RUN_ID = /^[A-Za-z0-9_-]{1,128}$/

export function getRun(deps: GatewayDeps): Handler {
  return async ({ res, params, known }) => {
    const runId = params.runId ?? ''
    const wellFormed = RUN_ID.test(runId)
    // An id no run can have (run ids are what envelopes allow) is unknown: the broker need not be asked,
    // and the problem does not echo it back as the run's id.
    if (wellFormed) known.runId = runId
    const record = wellFormed
      ? await deps.broker.get(runId).catch((error: unknown) => {
          throw brokerError(deps.broker, error)
        })
      : null
    if (record === null)
      throw new SwitchyardError('UNKNOWN_RUN', `no run with id '${runId}' (finished runs are kept for a while, not forever)`)
    sendJson(res, 200, toRunView(record), {
      [RUN_ID_HEADER]: record.runId,
      ...(record.traceId ? { [TRACE_ID_HEADER]: record.traceId } : {}),
    })
  }
}
