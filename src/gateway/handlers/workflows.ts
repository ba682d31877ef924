// GET /v1/workflows and /v1/workflows/{name}: the registry as callers may see it
// (no file paths, no pool internals).
import { SwitchyardError, route } from '../../control/index.js'
import type { Registry, Workflow, WorkflowView } from '../../control/index.js'
import { sendJson, type GatewayDeps, type Handler } from '../exchange.js'
import { maySee, requireScope } from '../scopes.js'

function view(workflow: Workflow): WorkflowView {
  return {
    name: workflow.name,
    pool: workflow.pool,
    description: workflow.description,
    input: workflow.input,
    output: workflow.output,
    timeoutMs: workflow.timeoutMs,
  }
}

export function listWorkflows(deps: GatewayDeps): Handler {
  return async ({ res, caller }) => {
    const workflows = [...deps.registry.workflows.values()]
      .filter((w) => maySee(caller, { workflow: w.name, pool: w.pool }))
      .map(view)
      .sort((a, b) => a.name.localeCompare(b.name))
    sendJson(res, 200, { registry: deps.registry.digest, workflows })
  }
}

export function getWorkflow(deps: GatewayDeps): Handler {
  return async ({ res, params, known, caller }) => {
    const name = params.name ?? ''
    known.workflow = name
    const workflow = deps.registry.workflows.get(name)
    // Outside the caller's scope, known or not, is a 403: no probing for names.
    if (!maySee(caller, { workflow: name, pool: workflow?.pool })) requireScope(caller, 'read', { workflow: name, pool: workflow?.pool })
    if (workflow === undefined) throw unknownWorkflow(deps.registry, name)
    known.pool = workflow.pool
    sendJson(res, 200, view(workflow))
  }
}

/** route()'s own UNKNOWN_WORKFLOW error, did-you-mean included: one source of suggestions. */
function unknownWorkflow(registry: Registry, name: string): SwitchyardError {
  try {
    route(registry, { workflow: name, input: {} })
  } catch (error) {
    return SwitchyardError.from(error)
  }
  return new SwitchyardError('UNKNOWN_WORKFLOW', `unknown workflow '${name}'`)
}
