// User-facing sizes ('256mb', '1gb') → bytes. Binary units: 1mb = 1024 × 1024 bytes,
// which is what Node's --max-old-space-size (in MiB) expects.

const SIZE = /^(\d+(?:\.\d+)?)(b|kb|mb|gb)$/i
const BYTES_PER_UNIT = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 } as const

/**
 * Parse a size into whole bytes, or return null when it is not one.
 *
 * @example parseSize('512mb') // 536870912
 */
export function parseSize(text: string): number | null {
  const match = SIZE.exec(text.trim())
  if (!match) return null
  const unit = (match[2] ?? '').toLowerCase() as keyof typeof BYTES_PER_UNIT
  const bytes = Number(match[1]) * BYTES_PER_UNIT[unit]
  return Number.isFinite(bytes) && bytes > 0 ? Math.round(bytes) : null
}
