// Tracing cost: runs/s of the same workflow with tracing at 100% and with tracing
// off, side by side in one run. Each measurement is its own process (measure.ts);
// rounds alternate the order so machine drift hits all modes alike. CPU ms per run
// is printed too: on a shared machine it is the steadier of the two figures. A third
// mode, "spans only", records every span but exports nothing: the difference to
// "tracing 100%" is the cost of shipping and storing. "100%, direct" stores spans
// in-process (StoreSpanExporter), as `switchyard dev`'s gateway does for its own spans.
// Path per run: HTTP POST → gateway (route, sign, enqueue) → MemoryBroker → worker →
// LangGraph (2 nodes, 1 offline model call) → response. "On" also pays for every span,
// the OTLP/protobuf export to the gateway's own receiver, decoding and the disk append.
//
// usage: node --import tsx bench/tracing/run.ts [--runs 1000] [--rounds 3] [--concurrency 16]
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { parseArgs, promisify } from 'node:util'

const exec = promisify(execFile)
const { values } = parseArgs({ options: { runs: { type: 'string' }, rounds: { type: 'string' }, concurrency: { type: 'string' } } })
const RUNS = values.runs ?? '1000'
const ROUNDS = Number(values.rounds ?? 3)
const CONCURRENCY = values.concurrency ?? '16'
const MEASURE = fileURLToPath(new URL('./measure.ts', import.meta.url))

type Mode = 'off' | 'spans' | 'on' | 'direct'

interface Sample {
  readonly mode: Mode
  readonly runsPerSecond: number
  readonly cpuMsPerRun: number
  readonly stored: number
}

async function sample(mode: Mode): Promise<Sample> {
  const { stdout } = await exec(process.execPath, ['--import', 'tsx', MEASURE, mode, RUNS, CONCURRENCY], { timeout: 600_000 })
  return JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as Sample
}

const samples: Sample[] = []
for (let round = 0; round < ROUNDS; round++) {
  const order: Mode[] = ['off', 'spans', 'on', 'direct']
  for (const mode of round % 2 === 0 ? order : [...order].reverse()) samples.push(await sample(mode))
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0
const of = (mode: Mode) => samples.filter((s) => s.mode === mode)
const summary = (mode: Mode) => ({
  rps: median(of(mode).map((s) => s.runsPerSecond)),
  cpu: median(of(mode).map((s) => s.cpuMsPerRun)),
  rounds: of(mode)
    .map((s) => s.runsPerSecond.toFixed(0))
    .join(', '),
})
const off = summary('off')
const spans = summary('spans')
const on = summary('on')
const direct = summary('direct')
console.log(`tracing cost: ${RUNS} runs per sample, ${ROUNDS} rounds, concurrency ${CONCURRENCY}, node ${process.version}`)
console.log(`mode           runs/s (median)   CPU ms/run   samples (runs/s)`)
console.log(`tracing off    ${off.rps.toFixed(0).padStart(15)}   ${off.cpu.toFixed(2).padStart(10)}   ${off.rounds}`)
console.log(
  `spans only     ${spans.rps.toFixed(0).padStart(15)}   ${spans.cpu.toFixed(2).padStart(10)}   ${spans.rounds}   (recorded, then dropped: no export)`,
)
console.log(`tracing 100%   ${on.rps.toFixed(0).padStart(15)}   ${on.cpu.toFixed(2).padStart(10)}   ${on.rounds}`)
console.log(
  `100%, direct   ${direct.rps.toFixed(0).padStart(15)}   ${direct.cpu.toFixed(2).padStart(10)}   ${direct.rounds}   (StoreSpanExporter: no OTLP round trip)`,
)
console.log(
  `throughput ratio on/off ${(on.rps / off.rps).toFixed(3)} (cost ${((1 - on.rps / off.rps) * 100).toFixed(1)}%) · CPU ratio ${(on.cpu / off.cpu).toFixed(3)} (cost ${((on.cpu / off.cpu - 1) * 100).toFixed(1)}%) · target < 10%`,
)
console.log(
  `direct: throughput ratio ${(direct.rps / off.rps).toFixed(3)} (cost ${((1 - direct.rps / off.rps) * 100).toFixed(1)}%) · CPU ratio ${(direct.cpu / off.cpu).toFixed(3)} (cost ${((direct.cpu / off.cpu - 1) * 100).toFixed(1)}%)`,
)
console.log(
  `traced runs found in the store per sample (listRuns, limit 1000): on ${of('on')
    .map((s) => s.stored)
    .join(', ')} · direct ${of('direct')
    .map((s) => s.stored)
    .join(', ')}`,
)
