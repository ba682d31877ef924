// The embedded-mode routes of DESIGN §2.3 (OTLP receiver, run list, run tree) and the
// console (GET /, always: it reads runs, pools and workflows, and traces when there is a
// store). Their handlers and the trace store are src/observe's; the gateway only mounts
// them, opening the trace store only when a trace folder is configured, and tells them
// what each caller may read and write (its scopes).
import { SwitchyardError } from '../control/index.js'
import type { Registry } from '../control/index.js'
import type { ObserveAccess } from '../observe/view/index.js'
import type { TraceStore } from '../observe/store/index.js'
import type { Handler } from './exchange.js'
import { hasRole, may, unrestricted, type Caller, type Role } from './scopes.js'

export interface MountedRoute {
  readonly method: string
  readonly pattern: string
  /**
   * `open` (the console's page and assets: they hold no data), `caller` (any valid token:
   * the receiver checks each span's project) or a role.
   */
  readonly access: 'open' | 'caller' | Role
  readonly handler: Handler
}

export interface MountedObserve {
  readonly routes: readonly MountedRoute[]
  /** The open store (null without a trace folder). */
  readonly store: TraceStore | null
  /** A reloaded registry: its pools' projects are kept apart from now on. */
  reload(registry: Registry): void
  close(): Promise<void>
}

const PATTERNS: ReadonlyArray<readonly [string, string, MountedRoute['access']]> = [
  ['POST', '/v1/traces', 'caller'],
  ['GET', '/v1/traces', 'read'],
  ['GET', '/v1/traces/{traceId}', 'read'],
]

const disabled: Handler = async ({ req }) => {
  throw new SwitchyardError(
    'NOT_FOUND',
    `${req.method ?? 'GET'} ${req.url ?? '/'}: this gateway has no embedded trace store (it exports traces elsewhere)`,
  )
}

/**
 * The console, and the trace store in `traceDir` with its routes; without a folder, the trace
 * routes answer 404. `registry` is read per request, so a reload's new pools write their own projects.
 */
export async function mountObserve(traceDir: string | undefined, registry: () => Registry): Promise<MountedObserve> {
  const view = await import('../observe/view/index.js')
  const pages = view
    .consoleRoutes()
    .map((route): MountedRoute => ({ method: route.method, pattern: route.pattern, access: 'open', handler: route.handler }))
  if (traceDir === undefined) {
    const routes = PATTERNS.map(([method, pattern, access]): MountedRoute => ({ method, pattern, access, handler: disabled }))
    return { routes: [...routes, ...pages], store: null, reload: () => {}, close: async () => {} }
  }
  const { FileTraceStore, OTHER_PROJECT } = await import('../observe/store/index.js')
  // Spans are filed under the registry's projects; any other name shares one bounded project.
  const projectsOf = (current: Registry) => [...current.pools.values()].map((pool) => pool.tracing.project)
  const store = await FileTraceStore.open(traceDir, { projects: projectsOf(registry()) })
  const accessOf = (caller: Caller) => observeAccess(caller, registry(), OTHER_PROJECT)
  const routes = view.observeRoutes(store).map((route): MountedRoute => {
    const access = PATTERNS.find(([method, pattern]) => method === route.method && pattern === route.pattern)?.[2] ?? 'read'
    return {
      method: route.method,
      pattern: route.pattern,
      access,
      handler: ({ req, res, params, caller }) => route.handler({ req, res, params, access: accessOf(caller) }),
    }
  })
  return {
    routes: [...routes, ...pages],
    store,
    reload: (next) => store.setProjects(projectsOf(next)),
    close: () => store.close(),
  }
}

/**
 * What a caller may read and write in the trace store:
 * - read: runs of the workflows and pools it may read; traces of no run only unrestricted;
 * - write: a pool's project only with that pool's ingest credential (or an unrestricted
 *   `ingest`, or `admin`); the shared `_other` project (callers' own spans, such as
 *   `switchyard run --trace`'s client span) with `run` too. A pool's credential writes
 *   nowhere else, so a hostile graph cannot fill another pool's project or the callers' one.
 *   A caller with none of those roles (a reader) is refused before its export is read.
 * - claim: a span naming a workflow or pool (what run lists and read scopes go by) only of
 *   the sender's own pools (an ingest credential) or of workflows it may run (a caller's own
 *   spans), so neither can forge runs of another pool into the list its readers see.
 * - sender: who wrote a span, kept with it unless the sender is trusted with every trace
 *   (admin, an unrestricted ingest token). A run's trace takes in a sender's spans only
 *   when the gateway's spans of that trace name it (its run's pool, the caller that
 *   started it), so spans posted under someone else's trace id with no claim at all stay
 *   out of that run's tree, summary, tokens and cost.
 * - read a project (`?project=`): every span filed there, whoever sent it and under
 *   whatever trace id, for a reader of every pool writing that project, whole pools (not
 *   some workflows of one); `_other`, every caller's, for unrestricted readers only.
 */
export function observeAccess(caller: Caller, registry: Registry, otherProject: string): ObserveAccess {
  const trusted = caller.roles.has('admin') || (caller.roles.has('ingest') && caller.pools === null)
  const poolsOf = (project: string) => [...registry.pools.values()].filter((pool) => pool.tracing.project === project)
  return {
    ...(trusted
      ? {}
      : { sender: { id: caller.id, ...(caller.roles.has('ingest') && caller.pools !== null ? { pools: [...caller.pools] } : {}) } }),
    canReadProject: (project) => {
      if (unrestricted(caller, 'read')) return true
      const pools = poolsOf(project)
      return project !== otherProject && pools.length > 0 && pools.every((pool) => may(caller, 'read', { pool: pool.name }))
    },
    canRead: (target) =>
      target.workflow === undefined && target.pool === undefined ? unrestricted(caller, 'read') : may(caller, 'read', target),
    // What canWrite grants to anyone: admin everywhere, ingest its projects, run the shared one.
    canWriteSome: () => caller.roles.has('admin') || caller.roles.has('ingest') || hasRole(caller, 'run'),
    canWrite: (project) => {
      if (caller.roles.has('admin')) return true
      const ingestAll = caller.roles.has('ingest') && caller.pools === null
      if (project === otherProject) return ingestAll || hasRole(caller, 'run')
      if (ingestAll) return true
      if (!caller.roles.has('ingest') || caller.pools === null) return false
      return [...caller.pools].some((pool) => registry.pools.get(pool)?.tracing.project === project)
    },
    canClaim: (claim) => {
      if (caller.roles.has('admin') || (caller.roles.has('ingest') && caller.pools === null)) return true
      // The pool a claimed workflow runs in: a span may not name a workflow of one pool and another pool.
      const workflowPool = claim.workflow === undefined ? undefined : registry.workflows.get(claim.workflow)?.pool
      if (claim.workflow !== undefined && workflowPool === undefined) return false
      if (claim.pool !== undefined && workflowPool !== undefined && claim.pool !== workflowPool) return false
      const pool = claim.pool ?? workflowPool
      // A pool's credential: spans of its own pools' runs only.
      if (caller.roles.has('ingest') && caller.pools !== null && pool !== undefined && caller.pools.has(pool)) return true
      // A caller's own spans (`switchyard run --trace`'s client span): of runs it may start.
      if (claim.workflow !== undefined) return may(caller, 'run', { workflow: claim.workflow, pool })
      return [...registry.workflows.values()].some(
        (workflow) => workflow.pool === pool && may(caller, 'run', { workflow: workflow.name, pool }),
      )
    },
  }
}
