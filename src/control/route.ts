// route(): the one way a request becomes a run (DESIGN §2.2). Pure apart from
// the clock; its cost does not depend on how many workflows the registry has.
import { relative, sep } from 'node:path'
import { InvalidInputError, SwitchyardError, UnknownWorkflowError } from './errors.js'
import { queueName } from './registry-rules.js'
import { suggest } from './suggest.js'
import type { Pool, Registry, RetryPolicy, RouteRequest, RoutePlan, Workflow } from './types.js'
import { toIssues, validatorFor, type Validate } from './validator.js'

/** Backoff between attempts; the broker doubles it each time. */
const BACKOFF_MS = 500

/**
 * A deep copy of JSON-shaped data (arrays and plain objects; anything else is
 * kept as is), so applying schema defaults never touches the caller's object.
 * Hand-written: structuredClone costs several microseconds on a small input,
 * more than the rest of route() together.
 */
export function cloneJson<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value
  if (Array.isArray(value)) return value.map(cloneJson) as T
  const proto: unknown = Object.getPrototypeOf(value)
  if (proto !== Object.prototype && proto !== null) return value
  const copy: Record<string, unknown> = {}
  for (const key of Object.keys(value)) {
    const item = cloneJson((value as Record<string, unknown>)[key])
    // A plain assignment to '__proto__' would replace the copy's prototype.
    if (key === '__proto__') Object.defineProperty(copy, key, { value: item, enumerable: true, writable: true, configurable: true })
    else copy[key] = item
  }
  return copy as T
}

/** What route() works out once per workflow, on its first request. */
interface Prepared {
  readonly workflow: Workflow
  readonly pool: Pool
  readonly queue: string
  readonly prompt: string | null
  readonly retry: RetryPolicy
  readonly validate: Validate
}

const preparedByRegistry = new WeakMap<Registry, Map<string, Prepared>>()

function prepare(registry: Registry, name: string): Prepared {
  let byName = preparedByRegistry.get(registry)
  if (!byName) {
    byName = new Map()
    preparedByRegistry.set(registry, byName)
  }
  const known = byName.get(name)
  if (known) return known
  const workflow = registry.workflows.get(name)
  if (!workflow) throw new UnknownWorkflowError(name, suggest(name, registry.workflows.keys()))
  const pool = registry.pools.get(workflow.pool)
  if (!pool) throw new SwitchyardError('REGISTRY_INVALID', `workflow '${workflow.name}' names unknown pool '${workflow.pool}'`)
  const prepared: Prepared = {
    workflow,
    pool,
    queue: queueName(pool.name),
    prompt: workflow.prompt === null ? null : relative(registry.root, workflow.prompt).split(sep).join('/'),
    retry: { maxAttempts: workflow.retries + 1, backoff: { type: 'exponential', delayMs: BACKOFF_MS } },
    validate: validatorFor(registry, workflow),
  }
  byName.set(name, prepared)
  return prepared
}

/**
 * Resolve a request into a RoutePlan: the workflow's pool and queue, its input
 * validated against the workflow's schema with defaults applied (on a copy),
 * the deadline and retry policy, the pool's tracing settings and the registry digest.
 *
 * @throws UnknownWorkflowError (UNKNOWN_WORKFLOW) with did-you-mean suggestions
 * @throws InvalidInputError (INVALID_INPUT) listing every violation as a JSON pointer and message
 * @example
 * route(registry, { workflow: 'email.compose', input: { lead: { email: 'a@b.co' } } }).queue // 'switchyard.email'
 */
export function route(registry: Registry, request: RouteRequest): RoutePlan {
  const { workflow, pool, queue, prompt, retry, validate } = prepare(registry, request.workflow)
  const input = cloneJson(request.input)
  if (!validate(input)) throw new InvalidInputError(workflow.name, toIssues(validate.errors ?? []))
  const now = request.now ?? Date.now()
  return {
    workflow: workflow.name,
    pool: pool.name,
    queue,
    runtime: pool.runtime,
    graph: workflow.graph.ref,
    prompt,
    input,
    timeoutMs: workflow.timeoutMs,
    deadline: new Date(now + workflow.timeoutMs).toISOString(),
    retry,
    tracing: pool.tracing,
    registry: registry.digest,
  }
}
