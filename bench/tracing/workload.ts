// What the tracing benchmarks drive: a registry with one pool and the benchmark
// workflow (graph.ts), the platform serving it in this process, and HTTP runs of it
// at a fixed concurrency.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { Agent, request, type IncomingHttpHeaders } from 'node:http'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadRegistry } from '../../src/control/index.js'
import { MemoryBroker } from '../../src/data/broker/memory/index.js'
import { createWorker } from '../../src/data/worker/index.js'
import { generateSigningKey, verifyKeysFor } from '../../src/data/index.js'
import { startGateway, type Gateway } from '../../src/gateway/index.js'

/** The bench gateway's signing key; its worker verifies with the public half. */
const BENCH_KEY = generateSigningKey()

/**
 * Write the benchmark registry into a new temporary folder; returns the registry file.
 * `modelDelayMs`: how long the graph's model call waits (the pool's BENCH_MODEL_DELAY_MS).
 */
export function writeBenchRegistry(concurrency: number, modelDelayMs = 0, poolEnv: Readonly<Record<string, string>> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-bench-tracing-'))
  const graph = fileURLToPath(new URL('./graph.ts', import.meta.url))
  const file = join(dir, 'switchyard.yaml')
  const env = Object.entries({ BENCH_MODEL_DELAY_MS: String(modelDelayMs), ...poolEnv })
  writeFileSync(join(dir, 'bench.env'), env.map(([name, value]) => `${name}=${value}\n`).join(''))
  writeFileSync(
    file,
    // The graph module lives in the repository, outside this temporary folder: shared.
    `version: 1
shared: [${JSON.stringify(dirname(graph))}]
pools:
  bench:
    concurrency: ${concurrency}
    processes: 1
    timeout: 30s
    retries: 0
    maxQueued: 100000
    env: bench.env
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

/**
 * `count` runs of bench.compose through the gateway at `url`, `concurrency` at a time,
 * over keep-alive connections; each 200 response's headers go to `onResponse`.
 * node:http rather than fetch: the load generator shares the machine with what it
 * measures, and fetch (undici's WHATWG streams) spent ~0.5 ms of CPU per run, a third
 * of what the platform itself spends.
 */
export async function runMany(
  url: string,
  count: number,
  concurrency: number,
  onResponse?: (headers: IncomingHttpHeaders) => void,
): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency })
  const target = new URL('/v1/workflows/bench.compose/run', url)
  const post = (body: string) =>
    new Promise<{ status: number; headers: IncomingHttpHeaders; text: string }>((resolve, reject) => {
      const req = request(target, {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      })
      req.once('error', reject)
      req.once('response', (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.once('error', reject)
        res.once('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString() }))
      })
      req.end(body)
    })
  let next = 0
  const lane = async () => {
    for (let i = next++; i < count; i = next++) {
      const response = await post(JSON.stringify({ lead: { name: `Lead ${i}`, email: `lead${i}@example.org` } }))
      if (response.status !== 200) throw new Error(`run ${i}: ${response.status} ${response.text}`)
      onResponse?.(response.headers)
    }
  }
  try {
    await Promise.all(Array.from({ length: concurrency }, lane))
  } finally {
    agent.destroy()
  }
}

export interface InProcess {
  readonly gateway: Gateway
  /** The gateway's trace store folder, when it has one. */
  readonly traceDir: string | undefined
  /** Stop the worker, the gateway and the broker, and remove the registry's folder. */
  close(): Promise<void>
}

/**
 * Gateway, MemoryBroker and the pool's worker in this process, serving the benchmark
 * registry. Tracing is the caller's to start (it may need the gateway's URL or store).
 */
export async function startInProcess(concurrency: number, options: { traces: boolean }): Promise<InProcess> {
  const file = writeBenchRegistry(concurrency)
  const dir = dirname(file)
  const registry = loadRegistry(file)
  const broker = new MemoryBroker({ pools: registry.pools.values() })
  const traceDir = options.traces ? join(dir, 'traces') : undefined
  const gateway = await startGateway({ registry, broker, port: 0, tokens: null, signingKey: BENCH_KEY, ...(traceDir ? { traceDir } : {}) })
  const quiet = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet }
  const worker = createWorker({
    pool: 'bench',
    registry,
    source: broker.source('bench'),
    verifyKeys: verifyKeysFor(BENCH_KEY),
    watchdogGraceMs: null,
    log: quiet,
  })
  await worker.start()
  return {
    gateway,
    traceDir,
    async close() {
      await worker.close()
      await gateway.close()
      await broker.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
