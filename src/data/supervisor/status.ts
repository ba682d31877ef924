// The supervisor's status table: one row per pool, printed when it changes.

export interface PoolStatus {
  readonly pool: string
  /** Worker processes running now / wanted; for python pools, 0/0. */
  readonly up: number
  readonly wanted: number
  readonly inFlight: number
  readonly queued: number
  /** Runs that failed for good (dead-lettered) since start. */
  readonly failed: number
  /** Worker processes that exited unexpectedly since start. */
  readonly crashes: number
  /** A note: `restarting in 2s`, `python: not served yet`, … */
  readonly note: string
}

const HEADERS = ['pool', 'up', 'in-flight', 'queued', 'failed', 'crashes', ''] as const

/** Render rows as an aligned plain-text table. */
export function renderStatus(rows: readonly PoolStatus[]): string {
  const cells = rows.map((r) => [
    r.pool,
    `${r.up}/${r.wanted}`,
    String(r.inFlight),
    String(r.queued),
    String(r.failed),
    String(r.crashes),
    r.note,
  ])
  const widths = HEADERS.map((h, i) => Math.max(h.length, ...cells.map((row) => row[i]?.length ?? 0)))
  const line = (row: readonly string[]) =>
    row
      .map((cell, i) => (i === 0 || i === row.length - 1 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd()
  return [line(HEADERS), ...cells.map(line)].join('\n')
}

/**
 * Exponential restart backoff: initialMs · 2^(crashes-1), capped at maxMs. A process
 * that stayed up for resetAfterMs counts as healthy again.
 */
export function restartDelay(consecutiveCrashes: number, options: { initialMs: number; maxMs: number }): number {
  return Math.min(options.maxMs, options.initialMs * 2 ** Math.max(0, consecutiveCrashes - 1))
}
