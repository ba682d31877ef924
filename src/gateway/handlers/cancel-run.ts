// POST /v1/runs/{runId}/cancel: a queued run ends cancelled at once; a running run's
// graph sees its abort signal and the run ends cancelled when its worker has stopped
// it. Idempotent: cancelling a cancelled run answers it again. 200 with the run once it
// is cancelled (or, if it finished first, as it finished); 202 with the run as it stands
// when its worker has not stopped it yet (GET Location shows the end). 404 UNKNOWN_RUN,
// 409 RUN_FINISHED for a run that had already succeeded or failed; 403 for a caller that
// did not start the run (and is not an admin).
import { SwitchyardError } from '../../control/index.js'
import type { RunRecord } from '../../data/broker/index.js'
import { brokerError } from '../broker-error.js'
import { RUN_ID_HEADER, TRACE_ID_HEADER, sendJson, type GatewayDeps, type Handler } from '../exchange.js'
import { ECHOABLE_RUN_ID, isIssuedRunId } from '../run-id.js'
import { mayCancelRun, requireScope } from '../scopes.js'
import { toRunView } from './run-view.js'

/** How long the answer waits for the worker to stop a running run: it usually takes milliseconds. */
const SETTLE_MS = 2000

export function cancelRun(deps: GatewayDeps): Handler {
  return async ({ res, params, known, caller }) => {
    const runId = params.runId ?? ''
    if (!ECHOABLE_RUN_ID.test(runId)) throw new SwitchyardError('UNKNOWN_RUN', `no run with id '${runId}'`)
    known.runId = runId
    // An id the gateway never issues (run-id.ts): unknown, as below, without asking the broker.
    if (!isIssuedRunId(runId)) throw new SwitchyardError('UNKNOWN_RUN', `unknown run '${runId}'`)
    // The scope covers the run's workflow, known only from its record: checked before anything is cancelled.
    const found = await deps.broker.get(runId).catch((error: unknown) => {
      throw brokerError(deps.broker, error)
    })
    if (found === null) throw new SwitchyardError('UNKNOWN_RUN', `unknown run '${runId}'`)
    requireScope(caller, 'run', { workflow: found.workflow, pool: found.pool })
    // A run is its owner's (or an admin's) to cancel: `run` on the same workflow is not enough.
    if (!mayCancelRun(caller, found)) {
      throw new SwitchyardError(
        'FORBIDDEN',
        `token '${caller.name}' may not cancel run ${runId}: only the token that started a run, or an admin token, may cancel it`,
      )
    }
    let record: RunRecord = await deps.broker.cancel(runId).catch((error: unknown) => {
      throw brokerError(deps.broker, error)
    })
    known.workflow = record.workflow
    known.pool = record.pool
    if (record.status === 'running' || record.status === 'queued') {
      // The broker asked the worker to stop it; a wait that fails leaves the answer at 202.
      record = await deps.broker.wait(runId, { until: Date.now() + SETTLE_MS }).catch(() => record)
    }
    const settled = record.status !== 'running' && record.status !== 'queued'
    sendJson(res, settled ? 200 : 202, toRunView(record), {
      [RUN_ID_HEADER]: record.runId,
      ...(record.traceId ? { [TRACE_ID_HEADER]: record.traceId } : {}),
      ...(settled ? {} : { location: `/v1/runs/${encodeURIComponent(runId)}` }),
    })
  }
}
