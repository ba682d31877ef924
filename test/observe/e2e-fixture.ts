// The tracing end-to-end setup: a registry in a temp folder (graphs from ./fixtures),
// the real gateway with its embedded trace store, the MemoryBroker, and tracing
// registered in this process as the gateway's. Everything is torn down by `close`.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { SERVICE, loadRegistry } from '../../src/control/index.js'
import type { Registry } from '../../src/control/index.js'
import { MemoryBroker } from '../../src/data/broker/memory/index.js'
import { generateSigningKey, verifyKeysFor } from '../../src/data/index.js'
import { startGateway, type Gateway } from '../../src/gateway/index.js'
import { FileTraceStore, initTracing, type StoredSpan, type Tracing } from '../../src/observe/index.js'
import { eventually as pollUntil } from '../helpers/eventually.js'

/** The rig gateway's signing key; its workers verify with E2E_VERIFY. */
export const E2E_KEY = generateSigningKey()
export const E2E_VERIFY = verifyKeysFor(E2E_KEY)

export const GRAPH = fileURLToPath(new URL('./fixtures/lead-graph.ts', import.meta.url))
export const CLIENT = fileURLToPath(new URL('./fixtures/client-run.ts', import.meta.url))

export interface TracingRig {
  readonly dir: string
  readonly traceDir: string
  readonly registry: Registry
  readonly broker: MemoryBroker
  readonly gateway: Gateway
  readonly tracing: Tracing
  /** Spans of a trace as stored now (a fresh read of the folder, as after a restart). */
  stored(traceId: string): Promise<StoredSpan[]>
  close(): Promise<void>
}

/** Write `yaml` (with `{graph}` standing for the fixture graph module) and start the rig on it. */
export async function startRig(yaml: string, files: Readonly<Record<string, string>> = {}): Promise<TracingRig> {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-e2e-'))
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text)
  // The fixture graph lives in the repository, outside the temporary registry's folder: shared.
  writeFileSync(join(dir, 'switchyard.yaml'), `shared: [${JSON.stringify(dirname(GRAPH))}]\n${yaml.replaceAll('{graph}', GRAPH)}`)
  const registry = loadRegistry(join(dir, 'switchyard.yaml'))
  const traceDir = join(dir, 'traces')
  const broker = new MemoryBroker({ pools: registry.pools.values() })
  const gateway = await startGateway({ registry, broker, port: 0, tokens: null, signingKey: E2E_KEY, traceDir })
  // The gateway's own spans go to its own receiver, as in `switchyard dev`.
  const tracing = initTracing({ service: SERVICE.gateway, env: { SWITCHYARD_TRACES_URL: gateway.url, OTEL_BSP_SCHEDULE_DELAY: '100' } })
  return {
    dir,
    traceDir,
    registry,
    broker,
    gateway,
    tracing,
    async stored(traceId) {
      const store = await FileTraceStore.open(traceDir)
      return store.getTrace(traceId)
    },
    async close() {
      await tracing.shutdown()
      await gateway.close()
      await broker.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** Poll `check` until it returns a value (not undefined/false); fail naming `what` after `timeoutMs` (20 s here). */
export function eventually<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  return pollUntil(what, check, timeoutMs)
}

/** Every span's parent is in the trace, except one root: the tree is connected. */
export function connected(spans: readonly StoredSpan[]): { roots: StoredSpan[]; orphans: StoredSpan[] } {
  const ids = new Set(spans.map((s) => s.spanId))
  const roots = spans.filter((s) => s.parentSpanId === null)
  const orphans = spans.filter((s) => s.parentSpanId !== null && !ids.has(s.parentSpanId))
  return { roots, orphans }
}
