// Who may do what (DESIGN §2.3, SECURITY.md): a caller is what its bearer token grants,
// roles (`run`, `read`, `metrics`, `ingest`, `admin`) narrowed to some workflows and
// pools. Routes declare the role they need; a handler that learns its target later
// (a run's workflow, a trace's pool) asks `requireScope` or `may` — the one check every
// route, and anything mounted behind the gateway's auth (the console), goes through.
// A run belongs to the caller that started it (its owner): its idempotency keys are its
// own, and only it (or an admin) may cancel the run; readers of the workflow read it.
import { SwitchyardError } from '../control/index.js'

/**
 * - `run`: POST a run, a batch, a cancel (of the workflows it may run)
 * - `read`: GET runs, a run, traces, workflows (those it may read)
 * - `metrics`: GET /metrics
 * - `ingest`: POST /v1/traces into its pools' projects
 * - `admin`: everything, unrestricted
 */
export type Role = 'run' | 'read' | 'metrics' | 'ingest' | 'admin'

export const ROLES: readonly Role[] = ['run', 'read', 'metrics', 'ingest', 'admin']

/** What a request is about, as far as it is known. */
export interface ScopeTarget {
  readonly workflow?: string | undefined
  readonly pool?: string | undefined
}

/** The authenticated caller of one request. */
export interface Caller {
  /** For messages and logs; never the token. */
  readonly name: string
  /**
   * Which credential this is, unique per token (names are labels two tokens may share):
   * `token:<hash of its digest>`, `ingest:<pool>`, `anonymous`. Never the token; the
   * gateway writes it on a request's span (`switchyard.caller`).
   */
  readonly id: string
  readonly roles: ReadonlySet<Role>
  /** Workflow name patterns (`*` matches any run of characters); null: any workflow. */
  readonly workflows: readonly string[] | null
  /** Pool names; null: any pool. */
  readonly pools: ReadonlySet<string> | null
  /** True when the gateway runs without tokens (--no-auth, or `dev` without SWITCHYARD_TOKENS). */
  readonly anonymous: boolean
}

/** What one token grants (a line of the tokens file, a SWITCHYARD_TOKENS entry, a pool's ingest credential). */
export interface Grant {
  readonly name: string
  /**
   * The caller's id (see Caller.id), and so the owner of its runs and idempotency keys:
   * required, never derived from `name` (a label two tokens may share). Tokens get theirs
   * from auth.ts (a hash of the token's digest), ingest credentials `ingest:<pool>`.
   */
  readonly id: string
  readonly roles: readonly Role[]
  readonly workflows?: readonly string[] | null
  readonly pools?: readonly string[] | null
}

/** Everything, unrestricted: SWITCHYARD_TOKENS entries and bare tokens in a tokens file. */
export const FULL_ROLES: readonly Role[] = ['admin']

/**
 * The caller of an open gateway that mints pools' ingest credentials (`dev`, `start
 * --no-auth`): it may run, read and scrape anything, and post spans into the shared
 * `_other` project, but never into a pool's project (only that pool's credential may),
 * so even an open `dev` keeps pools out of each other's traces.
 */
export const ANONYMOUS: Caller = {
  name: 'anonymous',
  id: 'anonymous',
  roles: new Set<Role>(['run', 'read', 'metrics']),
  workflows: null,
  pools: null,
  anonymous: true,
}

/** The caller of an open gateway with no ingest credentials at all: its receiver is open too. */
export const ANONYMOUS_OPEN_INGEST: Caller = { ...ANONYMOUS, roles: new Set<Role>(['run', 'read', 'metrics', 'ingest']) }

/** The caller of an open route (probes, the console page): no role at all. */
export const NOBODY: Caller = {
  name: 'unauthenticated',
  id: 'unauthenticated',
  roles: new Set(),
  workflows: null,
  pools: null,
  anonymous: true,
}

/**
 * Whether the caller may force a run's trace to be kept whatever the pool's sampleRate:
 * on an open gateway anyone (a developer's own machine); behind tokens only `admin`, since
 * forcing every run would fill the pool's project and push out the traces sampling keeps.
 */
export function mayForceTrace(caller: Caller): boolean {
  return caller.roles.has('admin') || (caller.anonymous && caller.roles.has('run'))
}

/** Whether the caller may see a workflow at all: to read its runs, or to run it (and so know its schema). */
export function maySee(caller: Caller, target: ScopeTarget): boolean {
  return may(caller, 'read', target) || may(caller, 'run', target)
}

export function callerOf(grant: Grant): Caller {
  return {
    name: grant.name,
    id: grant.id,
    roles: new Set(grant.roles),
    workflows: grant.workflows ?? null,
    pools: grant.pools ? new Set(grant.pools) : null,
    anonymous: false,
  }
}

/** Whether the caller holds `role` for anything at all (the route-level check). */
export function hasRole(caller: Caller, role: Role): boolean {
  return caller.roles.has('admin') || caller.roles.has(role)
}

/** Whether the caller holds `role` with no workflow or pool restriction. */
export function unrestricted(caller: Caller, role: Role): boolean {
  return caller.roles.has('admin') || (caller.roles.has(role) && caller.workflows === null && caller.pools === null)
}

/**
 * Whether the caller may act as `role` on `target`. A restriction the target does not
 * satisfy — or cannot, because it does not name a workflow or pool — refuses.
 *
 * @example if (!may(caller, 'read', { workflow: run.workflow, pool: run.pool })) continue
 */
export function may(caller: Caller, role: Role, target: ScopeTarget = {}): boolean {
  if (caller.roles.has('admin')) return true
  if (!caller.roles.has(role)) return false
  if (caller.workflows !== null && (target.workflow === undefined || !caller.workflows.some((p) => matchesPattern(p, target.workflow!))))
    return false
  if (caller.pools !== null && (target.pool === undefined || !caller.pools.has(target.pool))) return false
  return true
}

/** A run as far as who may touch it goes: its workflow, pool and owner (RunRecord has them). */
export interface RunTarget {
  readonly workflow: string
  readonly pool: string
  readonly owner: string | null
}

/**
 * The owner id of the runs a caller starts, as the broker keeps it (SubmitOptions.owner:
 * no `:`): its id with `:` written `.` (`token.<hash>`, `anonymous`). Ids have one of
 * the forms `token:`, `ingest:` or a bare word, so no two callers share an owner id.
 */
export function runOwner(caller: Caller): string {
  return caller.id.replace(/:/g, '.')
}

/** Whether the caller started the run. An open gateway has one caller, whose runs they all are. */
export function ownsRun(caller: Caller, run: RunTarget): boolean {
  return caller.anonymous || (run.owner !== null && run.owner === runOwner(caller))
}

/**
 * Whether the caller may read a run: `read` on its workflow (a reader sees every run of
 * it), or it started the run and may still run its workflow. Another caller's `run` on
 * the same workflow is not enough: one caller never learns another's runs by running.
 */
export function mayReadRun(caller: Caller, run: RunTarget): boolean {
  const target = { workflow: run.workflow, pool: run.pool }
  return may(caller, 'read', target) || (ownsRun(caller, run) && may(caller, 'run', target))
}

/**
 * Whether the caller may cancel a run: an admin any run; otherwise only the caller that
 * started it, while it may run its workflow. A run whose owner is not known (queued
 * before owners were kept) is an admin's to cancel (or an open gateway's one caller's).
 */
export function mayCancelRun(caller: Caller, run: RunTarget): boolean {
  return caller.roles.has('admin') || (ownsRun(caller, run) && may(caller, 'run', { workflow: run.workflow, pool: run.pool }))
}

/**
 * Throw FORBIDDEN (403) unless the caller may act as `role` on `target`.
 *
 * @example requireScope(exchange.caller, 'run', { workflow: name, pool })
 */
export function requireScope(caller: Caller, role: Role, target: ScopeTarget = {}): void {
  if (may(caller, role, target)) return
  const what =
    target.workflow !== undefined ? `workflow '${target.workflow}'` : target.pool !== undefined ? `pool '${target.pool}'` : 'this'
  const reason = hasRole(caller, role) ? `its scope does not cover ${what}` : `it lacks the '${role}' role`
  throw new SwitchyardError('FORBIDDEN', `token '${caller.name}' may not ${VERB[role]} ${what}: ${reason}`)
}

const VERB: Readonly<Record<Role, string>> = {
  run: 'run',
  read: 'read',
  metrics: 'read the metrics of',
  ingest: 'write spans for',
  admin: 'administer',
}

/** `email.*` matches `email.compose`; `*` matches any run of characters, dots included. */
export function matchesPattern(pattern: string, name: string): boolean {
  if (!pattern.includes('*')) return pattern === name
  const parts = pattern.split('*')
  const first = parts[0] as string
  const last = parts[parts.length - 1] as string
  if (!name.startsWith(first) || name.length < first.length + last.length || !name.endsWith(last)) return false
  let at = first.length
  const end = name.length - last.length
  for (const part of parts.slice(1, -1)) {
    const found = name.indexOf(part, at)
    if (found === -1 || found + part.length > end) return false
    at = found + part.length
  }
  return true
}

/** A workflow pattern is a name with `*` wildcards: lowercase letters, digits, `.`, `-`. */
export const PATTERN = /^[a-z0-9.*-]+$/
