// "Did you mean …?" for unknown workflow names and unknown registry keys.

/**
 * Edit distance counting a swap of two neighbours as one edit (typos such as
 * 'emial'), bounded: returns `limit + 1` as soon as it is exceeded.
 */
export function editDistance(a: string, b: string, limit = Infinity): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1
  let before: number[] = []
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    let rowMin = i
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let value = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) value = Math.min(value, (before[j - 2] ?? 0) + 1)
      current.push(value)
      if (value < rowMin) rowMin = value
    }
    if (rowMin > limit) return limit + 1
    before = previous
    previous = current
  }
  return previous[b.length] ?? limit + 1
}

/**
 * Up to `max` candidates close to `name`: small edit distance (a third of the
 * name's length, at least 1, at most 3), or sharing the name as a prefix.
 * Closest first, then alphabetical.
 */
export function suggest(name: string, candidates: Iterable<string>, max = 3): string[] {
  const limit = Math.min(3, Math.max(1, Math.floor(name.length / 3)))
  const scored: Array<{ candidate: string; score: number }> = []
  for (const candidate of candidates) {
    const distance = editDistance(name, candidate, limit)
    if (distance <= limit) scored.push({ candidate, score: distance })
    else if (name.length >= 2 && (candidate.startsWith(name) || name.startsWith(candidate))) {
      scored.push({ candidate, score: limit + 1 })
    }
  }
  scored.sort((x, y) => x.score - y.score || (x.candidate < y.candidate ? -1 : 1))
  return scored.slice(0, max).map((s) => s.candidate)
}
