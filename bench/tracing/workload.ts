// What both measurements of bench/tracing/run.ts drive: a registry with one pool and
// the benchmark workflow (graph.ts), and HTTP runs of it at a fixed concurrency.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** Write the benchmark registry into a new temporary folder; returns the registry file. */
export function writeBenchRegistry(concurrency: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-bench-tracing-'))
  const graph = fileURLToPath(new URL('./graph.ts', import.meta.url))
  const file = join(dir, 'switchyard.yaml')
  writeFileSync(
    file,
    `version: 1
pools:
  bench:
    concurrency: ${concurrency}
    processes: 1
    timeout: 30s
    retries: 0
    maxQueued: 100000
    tracing: { project: bench, sampleRate: 1.0, capture: full }
workflows:
  bench.compose:
    pool: bench
    graph: "${graph}#graph"
    input: { type: object, required: [lead] }
    description: benchmark workflow
`,
  )
  return file
}

/** `count` runs of bench.compose through the gateway at `url`, `concurrency` at a time; each 200 response goes to `onResponse`. */
export async function runMany(url: string, count: number, concurrency: number, onResponse?: (response: Response) => void): Promise<void> {
  let next = 0
  const lane = async () => {
    for (let i = next++; i < count; i = next++) {
      const response = await fetch(`${url}/v1/workflows/bench.compose/run`, {
        method: 'POST',
        body: JSON.stringify({ lead: { name: `Lead ${i}`, email: `lead${i}@example.org` } }),
        headers: { 'content-type': 'application/json' },
      })
      if (response.status !== 200) throw new Error(`run ${i}: ${response.status} ${await response.text()}`)
      onResponse?.(response)
      await response.arrayBuffer()
    }
  }
  await Promise.all(Array.from({ length: concurrency }, lane))
}
