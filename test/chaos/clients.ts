// Callers as real clients behave, over plain HTTP against the rig's gateway.
// With an Idempotency-Key a client retries whatever went wrong (a network error, a 5xx,
// a 429) with the same key until it has an answer, honouring Retry-After: the key makes
// the retry safe. Each wait is the typed client's `retryDelay` (src/client): Retry-After
// plus 0–50 % jitter, else exponential backoff with full jitter, so the clients a gateway
// sheds together come back spread out, as real ones using switchyard-ai/client do.
// Without a key it retries only what says nothing was queued (429 and 503, the gateway's
// promise) and gives up on a network error or a timeout, which could have queued the
// run: it cannot know, so it does not risk a second run.

import { retryDelay } from '../../src/client/index.js'

export interface Submission {
  /** The run id of a 2xx answer: the run was accepted. */
  readonly runId: string | null
  readonly key: string | null
  /** The final HTTP status (0: network error or timeout). */
  readonly status: number
  /** 202 answers whose run id differed from an earlier answer for the same key. */
  readonly conflictingRunIds: string[]
  readonly attempts: number
  /** The last answer that was not a 2xx: its status, problem code and message (null: none, or a network error). */
  readonly lastProblem: string | null
}

export interface SubmitOptions {
  readonly key: string | null
  readonly async: boolean
  /** Give up retrying after this long. */
  readonly budgetMs: number
  /** Per request. */
  readonly timeoutMs?: number
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** A Retry-After is waited out up to 5 s (plus its jitter). */
const RETRY_AFTER = { maxMs: 5000 }
/**
 * Without one (a refused connection while the gateway restarts, a 5xx), a random wait of up
 * to 250 ms doubling to 1 s: a client notices the gateway back within a second, as with the
 * fixed 250 ms it waited before, without the clients polling it in step.
 */
const BACKOFF = { baseMs: 250, maxMs: 1000 }

/** fetch's error when nothing listened on the port (the gateway down, or restarting). */
function connectionRefused(error: unknown): boolean {
  return (error as { cause?: { code?: unknown } } | null)?.cause?.code === 'ECONNREFUSED'
}

/** Submit one run as a real client would; resolves with what it finally got. */
export async function submit(url: string, workflow: string, input: unknown, options: SubmitOptions): Promise<Submission> {
  const until = Date.now() + options.budgetMs
  const runIds = new Set<string>()
  let attempts = 0
  let status = 0
  let runId: string | null = null
  let lastProblem: string | null = null
  for (;;) {
    attempts += 1
    let wait = retryDelay(attempts - 1, null, BACKOFF)
    try {
      const res = await fetch(`${url}/v1/workflows/${workflow}/run`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(options.async ? { prefer: 'respond-async' } : {}),
          ...(options.key ? { 'idempotency-key': options.key } : {}),
        },
        body: JSON.stringify(input),
        signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
      })
      status = res.status
      const id = res.headers.get('x-switchyard-run-id')
      const body = await res.text()
      if (res.status >= 300) lastProblem = problemOf(res.status, body)
      // A run id on a 2xx, or on the run's own failure (502) or deadline (504), means the run was accepted.
      if (id && (res.status < 300 || res.status === 502 || res.status === 504)) {
        runIds.add(id)
        runId = id
      }
      if (res.status < 300) break
      // The run itself failed or timed out (502/504 with a run id): an answer, not a reason to retry.
      if ((res.status === 502 || res.status === 504) && id) break
      const saysNothingQueued = res.status === 429 || res.status === 503
      if (!options.key && !saysNothingQueued) break
      if (options.key && res.status >= 400 && res.status < 500 && res.status !== 429 && res.status !== 408) break
      const retryAfter = res.headers.get('retry-after')
      wait = retryDelay(attempts - 1, retryAfter, retryAfter === null ? BACKOFF : RETRY_AFTER)
    } catch (error) {
      status = 0
      lastProblem = `no answer: ${(error as Error).message}`
      // A refused connection never carried the request, so even a client without a key may
      // send it again; any other error leaves it unknown whether the run was taken.
      if (!options.key && !connectionRefused(error)) break
    }
    if (Date.now() + wait > until) break
    await sleep(wait)
  }
  const ids = [...runIds]
  return { runId, key: options.key, status, conflictingRunIds: ids.slice(1), attempts, lastProblem }
}

/** `504 DEADLINE_EXCEEDED: <detail>` from a problem+json body (its status alone for any other). */
function problemOf(status: number, body: string): string {
  try {
    const problem = JSON.parse(body) as { code?: unknown; detail?: unknown }
    const what = [problem.code, problem.detail].filter((part) => typeof part === 'string').join(': ')
    return `${status} ${what}`.trim().slice(0, 300)
  } catch {
    return String(status)
  }
}

export interface RunView {
  readonly status: string
  readonly error?: { readonly code: string; readonly message?: string }
}

/** GET a run: its view, null for 404, undefined when the gateway could not be asked. */
export async function getRun(url: string, runId: string): Promise<RunView | null | undefined> {
  try {
    const res = await fetch(`${url}/v1/runs/${encodeURIComponent(runId)}`, { signal: AbortSignal.timeout(10_000) })
    if (res.status === 404) return null
    if (res.status !== 200) return undefined
    return (await res.json()) as RunView
  } catch {
    return undefined
  }
}

export const FINAL = new Set(['succeeded', 'failed', 'cancelled'])

/** Poll every run until each is final or `untilMs` passes; returns each run's last view. */
export async function settle(url: string, runIds: readonly string[], untilMs: number): Promise<Map<string, RunView | null>> {
  const views = new Map<string, RunView | null>()
  let open = [...new Set(runIds)]
  for (;;) {
    const next: string[] = []
    for (const runId of open) {
      const view = await getRun(url, runId)
      if (view !== undefined) views.set(runId, view)
      if (view === undefined || (view !== null && !FINAL.has(view.status))) next.push(runId)
    }
    open = next
    if (open.length === 0 || Date.now() > untilMs) break
    await sleep(500)
  }
  for (const runId of open) if (!views.has(runId)) views.set(runId, null)
  return views
}

/**
 * Steady traffic to the neighbour pool: one synchronous run every `everyMs` (an open
 * loop: a slow answer does not delay the next request), each with its own key so a
 * retry after a dropped connection is safe. Latency is the client's, retries included.
 */
export function steadyTraffic(url: string, options: { everyMs: number; workflow: string; budgetMs: number }) {
  const latencies: number[] = []
  let failures = 0
  /** What the first failures got, to say why in a failed test (a few: one cause repeats). */
  const failed: string[] = []
  let sent = 0
  const inflight = new Set<Promise<void>>()
  let stopped = false
  const tag = Math.random().toString(36).slice(2, 8)
  const timer = setInterval(() => {
    if (stopped) return
    sent += 1
    const started = performance.now()
    const p = submit(url, options.workflow, { n: sent }, { key: `n-${tag}-${sent}`, async: false, budgetMs: options.budgetMs }).then(
      (s) => {
        if (s.status === 200) latencies.push(performance.now() - started)
        else {
          failures += 1
          if (failed.length < 5) failed.push(failureText(s, started))
        }
      },
    )
    inflight.add(p)
    void p.finally(() => inflight.delete(p))
  }, options.everyMs)
  return {
    /** Stop sending; resolves once every request sent has its answer. */
    async stop(): Promise<{ latencies: number[]; failures: number; failed: string[]; sent: number }> {
      stopped = true
      clearInterval(timer)
      await Promise.all([...inflight])
      return { latencies, failures, failed, sent }
    },
  }
}

/** One failed request, for a test's message: when it was sent, how long it took, and its last answer. */
function failureText(s: Submission, started: number): string {
  const sentAt = new Date(Date.now() - (performance.now() - started)).toISOString().slice(11, 23)
  const took = ((performance.now() - started) / 1000).toFixed(1)
  return `sent ${sentAt} UTC, ended after ${took} s and ${s.attempts} attempts: ${s.lastProblem ?? s.status}${s.runId ? ` (run ${s.runId})` : ''}`
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN
}
