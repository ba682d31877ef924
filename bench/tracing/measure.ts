// One measurement process of bench/tracing/run.ts: gateway + MemoryBroker + worker
// in this process, tracing `on` (100%, exported to the gateway's own store) or
// `off`; prints one JSON line: runs/s (wall) and CPU milliseconds per run.
// (A separate process per mode: module-level tracers bind to the first provider
// registered, so one process cannot switch tracing on and off.)
//
// usage: node --import tsx bench/tracing/measure.ts off|spans|on|direct RUNS CONCURRENCY [WARMUP]
import { SERVICE } from '../../src/control/index.js'
import { FileTraceStore, StoreSpanExporter, initTracing } from '../../src/observe/index.js'
import { runMany, startInProcess } from './workload.js'

const [mode = 'off', runsText = '1000', concurrencyText = '16', warmupText = '1000'] = process.argv.slice(2)
const RUNS = Number(runsText)
const CONCURRENCY = Number(concurrencyText)
const WARMUP = Number(warmupText)
const on = mode === 'on'
// `spans`: spans recorded, then dropped by a no-op exporter (separates recording from shipping).
const spansOnly = mode === 'spans'
// `direct`: 100%, written straight into the trace store (StoreSpanExporter), as a process
// hosting the store can do for its own spans, instead of OTLP to its own receiver.
const direct = mode === 'direct'

const { gateway, traceDir, close } = await startInProcess(CONCURRENCY, { traces: true })
// The gateway's own open store, as `switchyard dev` hands it to its tracing.
const directStore = direct ? (gateway.traceStore ?? undefined) : undefined
const tracing = initTracing({
  service: SERVICE.gateway,
  env: on || spansOnly || direct ? { SWITCHYARD_TRACES_URL: gateway.url } : {},
  ...(spansOnly ? { exporter: { export: (_spans, done) => done({ code: 0 }), shutdown: async () => {} } } : {}),
  ...(directStore ? { exporter: new StoreSpanExporter(directStore) } : {}),
})
await runMany(gateway.url, WARMUP, CONCURRENCY) // warm-up: graph load, JIT tiers, sockets — the steady state a long-lived process is in
await tracing.forceFlush()
const cpu = process.cpuUsage()
const started = performance.now()
await runMany(gateway.url, RUNS, CONCURRENCY)
// Tracing's cost includes getting every span into the store.
await tracing.forceFlush()
const seconds = (performance.now() - started) / 1000
const used = process.cpuUsage(cpu)
const stored = (on || direct) && traceDir ? (await (await FileTraceStore.open(traceDir)).listRuns({ limit: 1000 })).length : 0

process.stdout.write(
  `${JSON.stringify({ mode, runs: RUNS, runsPerSecond: RUNS / seconds, cpuMsPerRun: (used.user + used.system) / 1000 / RUNS, stored })}\n`,
)
await tracing.shutdown()
await close()
