// Where tracing's export cost goes, stage by stage, on the spans of real runs of the
// benchmark workflow (7 per run: gateway request, route, enqueue, run, 2 nodes, 1 chat),
// exported in batches of --batch runs' spans (the batch span processor sends ~0.5 s of
// spans at once: a few hundred runs' worth on a busy pool). Each stage is timed alone in
// a warm loop, so the figures are lower bounds: in a busy process the same work also
// costs garbage collection and cache misses (run.ts measures that whole). Recording
// itself is run.ts's "spans only" row.
//
// usage: node --import tsx bench/tracing/stages.ts [--batch 200] [--rounds 50]
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer'
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { SERVICE } from '../../src/control/index.js'
import { decodeOtlpProtobuf, FileTraceStore, initTracing, StoreSpanExporter, toStoredSpans } from '../../src/observe/index.js'
import { runMany, startInProcess } from './workload.js'

const { values } = parseArgs({ options: { batch: { type: 'string' }, rounds: { type: 'string' } } })
const BATCH = Number(values.batch ?? 200)
const ROUNDS = Number(values.rounds ?? 50)

// Real spans: a few runs through gateway, broker and worker, captured in memory.
const { gateway, close } = await startInProcess(4, { traces: false })
const captured = new InMemorySpanExporter()
const tracing = initTracing({ service: SERVICE.gateway, env: {}, exporter: captured })
await runMany(gateway.url, BATCH, 4)
await tracing.forceFlush()
const spans: ReadableSpan[] = captured.getFinishedSpans()
await tracing.shutdown()
await close()

/** µs per run of `stage` applied to the batch, after a warm-up. */
async function time(stage: () => unknown): Promise<number> {
  for (let i = 0; i < 10; i++) await stage()
  const cpu = process.cpuUsage()
  for (let i = 0; i < ROUNDS; i++) await stage()
  const used = process.cpuUsage(cpu)
  return (used.user + used.system) / ROUNDS / BATCH
}

const body = ProtobufTraceSerializer.serializeRequest(spans) ?? new Uint8Array()
const decoded = decodeOtlpProtobuf(body)
const stored = toStoredSpans(decoded)
const dir = mkdtempSync(join(tmpdir(), 'switchyard-bench-stages-'))
const store = await FileTraceStore.open(dir)
const direct = new StoreSpanExporter(store)

const rows: [string, number][] = [
  ['OTLP/protobuf encode (OpenTelemetry serializer, the exporter)', await time(() => ProtobufTraceSerializer.serializeRequest(spans))],
  ['OTLP/protobuf decode (the receiver)', await time(() => decodeOtlpProtobuf(body))],
  ['to stored spans (project, times, kinds)', await time(() => toStoredSpans(decoded))],
  ['JSON lines (JSON.stringify per span)', await time(() => stored.map((span) => JSON.stringify(span)))],
  ['store add (lines, index, append)', await time(() => store.add(stored))],
  ['direct: StoreSpanExporter → store', await time(() => new Promise((resolve) => direct.export(spans, resolve)))],
]
await store.close()
rmSync(dir, { recursive: true, force: true })

console.log(
  `tracing export stages: batches of ${BATCH} runs, ${spans.length} spans (${body.length} bytes as OTLP/protobuf), ${ROUNDS} rounds, node ${process.version}`,
)
for (const [stage, micros] of rows) console.log(`${stage.padEnd(52)} ${micros.toFixed(1).padStart(6)} µs CPU per run`)
