// Reads Prometheus text exposition in tests: the value of one series, by name and
// labels, whatever order a library writes the labels in.

/** The value of the sample `name{labels}` in `text`, or undefined when there is none. */
export function sampleValue(text: string, name: string, labels: Readonly<Record<string, string | number>> = {}): number | undefined {
  const wanted = Object.entries(labels)
    .map(([k, v]) => `${k}=${JSON.stringify(String(v))}`)
    .sort()
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (!match || match[1] !== name) continue
    const have = (match[2] ?? '').match(/[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*"/g) ?? []
    if (have.length === wanted.length && [...have].sort().every((pair, i) => pair === wanted[i])) {
      return match[3] === '+Inf' ? Infinity : Number(match[3])
    }
  }
  return undefined
}
