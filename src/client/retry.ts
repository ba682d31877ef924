// Backoff between attempts, in one function for every Switchyard caller (the typed client,
// the chaos suite's clients, bench/neighbour): the gateway's Retry-After plus 0–50 % random
// jitter when it sends one, else capped exponential backoff with full jitter. The jitter is
// the point: a gateway that sheds a burst answers every caller `Retry-After: 1` in the same
// millisecond, and callers that wait exactly that long all come back in the same
// millisecond, a retry wave the gateway sheds again (issue 13). Jitter only adds to the
// server's Retry-After: a caller never comes back sooner than it was asked to.
// Plain timers only: this runs in browsers and edge runtimes.

/** How long retryDelay waits. */
export interface RetryDelayOptions {
  /** First backoff delay (attempt 0) when there is no Retry-After. @default 250 */
  readonly baseMs?: number
  /** Cap of the backoff, and of the server's Retry-After before its jitter. @default 30000 */
  readonly maxMs?: number
  /** A number in [0, 1): seed it in tests. @default Math.random */
  readonly random?: () => number
  /** Now, for a Retry-After that is an HTTP date. @default Date.now() */
  readonly nowMs?: number
}

/** The share of the server's Retry-After added at most as jitter. */
const RETRY_AFTER_JITTER = 0.5

/**
 * Milliseconds to wait before sending again after attempt number `attempt` (0-based) was
 * answered with `retryAfterHeader` (the response's `Retry-After`, or null).
 * - A readable Retry-After (delta-seconds, or an HTTP date): its delay, at most `maxMs`,
 *   plus 0–50 % of it at random (of `baseMs` when it is 0: a date in the past).
 * - None, or one that cannot be read: `random() × min(maxMs, baseMs × 2^attempt)` (full jitter).
 *
 * @example await sleep(retryDelay(attempt, response.headers.get('retry-after')))
 */
export function retryDelay(attempt: number, retryAfterHeader: string | null | undefined, options: RetryDelayOptions = {}): number {
  const baseMs = options.baseMs ?? 250
  const maxMs = options.maxMs ?? 30_000
  const random = options.random ?? Math.random
  const seconds = parseRetryAfter(retryAfterHeader ?? null, options.nowMs)
  if (seconds !== undefined) {
    const asked = Math.min(maxMs, seconds * 1000)
    return Math.floor(asked + random() * RETRY_AFTER_JITTER * Math.max(asked, baseMs))
  }
  return Math.floor(random() * Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt)))
}

/**
 * Seconds from a Retry-After header (RFC 9110: delta-seconds, or an HTTP date); undefined
 * when absent or unreadable (a fraction, a sign, two values, a date without a month name).
 */
export function parseRetryAfter(header: string | null, nowMs = Date.now()): number | undefined {
  if (header === null) return undefined
  const text = header.trim()
  if (/^\d+$/.test(text)) return Number(text)
  // Date.parse reads almost anything ('1.5' is a day of 2001): an HTTP date names its month
  // and has a time of day. All three of its forms are GMT; asctime's does not say so.
  if (!/\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\b/i.test(text.replace(/-/g, ' '))) return undefined
  if (!/\b\d\d:\d\d:\d\d\b/.test(text)) return undefined
  const date = Date.parse(/\bGMT$/i.test(text) ? text : `${text} GMT`)
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - nowMs) / 1000))
}

/** Wait `ms`, or reject with the signal's reason when it aborts first. */
export function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error)
    const onAbort = () => {
      clearTimeout(timer)
      reject(signal?.reason as Error)
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
