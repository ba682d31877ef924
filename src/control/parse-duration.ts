// User-facing durations ('250ms', '30s', '2m', '1h') → milliseconds.

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/
const MS_PER_UNIT = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const

/**
 * Parse a duration into whole milliseconds, or return null when it is not one.
 *
 * @example parseDuration('2m') // 120000
 * @example parseDuration('1.5s') // 1500
 */
export function parseDuration(text: string): number | null {
  const match = DURATION.exec(text.trim())
  if (!match) return null
  const ms = Number(match[1]) * MS_PER_UNIT[match[2] as keyof typeof MS_PER_UNIT]
  return Number.isFinite(ms) && ms > 0 ? Math.round(ms) : null
}
