// Tracing cost: runs/s of the same workflow with tracing at 100% and with tracing
// off, side by side in one run, two ways:
//
// 1. As deployed (measure-dev.ts): `switchyard dev` in child processes — the gateway
//    with the embedded broker and trace store, and the pool's worker process over IPC —
//    driven over HTTP. Tracing on is dev's default: the worker exports OTLP/protobuf to
//    the gateway's receiver, the gateway writes its own spans straight into the store.
//    CPU is that of the dev processes (gateway + worker), counted until the last runs'
//    traces are whole in the store.
// 2. All in one process (measure.ts): gateway, MemoryBroker, worker, receiver and store
//    share one thread, so every cost of tracing lands on the same core as the runs.
//    A diagnostic, not the target's measure: `switchyard dev` and `start` run each pool's
//    workers in processes of their own, so the two ends of OTLP never share a thread.
//    "spans only" records every span and exports nothing (the cost of recording);
//    "100%" ships every span over OTLP to its own receiver; "100%, direct" stores them
//    in-process (StoreSpanExporter), as the dev gateway does for its own spans.
//
// Each sample is its own process(es), after a warm-up that brings the JIT to the steady
// state a long-lived worker runs in; rounds alternate the order so machine drift hits
// every mode alike. CPU ms per run is the steadier figure on a shared machine. A
// sample's runs/s varies by a few percent from process to process (JIT, placement on
// the 2 cores), so the default is 9 rounds, and each mode's paired cost per round is
// printed with its 95% interval.
// Path per run: HTTP POST → gateway (route, sign, enqueue) → broker → worker → LangGraph
// (2 nodes, 1 offline model call) → response; 7 spans when traced.
//
// --model-delay MS makes the graph's model call wait that long (a model-bound run, deployed
// only): tracing's CPU per kept run is then set against a run as long as a real one.
//
// --delays 50,5000 (deployed only) measures tracing at 100% once per batch delay
// (OTEL_BSP_SCHEDULE_DELAY for the gateway and the worker) in the same interleaved
// rounds, instead of once with the build's default: the delays side by side.
//
// usage: node --import tsx bench/tracing/run.ts [--runs 2000] [--warmup 1000] [--rounds 9] [--concurrency 16] [--only deployed|one-process] [--model-delay 0] [--delays MS,MS]
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { parseArgs, promisify } from 'node:util'

const exec = promisify(execFile)
const { values } = parseArgs({
  options: {
    runs: { type: 'string' },
    warmup: { type: 'string' },
    rounds: { type: 'string' },
    concurrency: { type: 'string' },
    only: { type: 'string' },
    'model-delay': { type: 'string' },
    delays: { type: 'string' },
  },
})
const RUNS = values.runs ?? '2000'
const WARMUP = values.warmup ?? '1000'
const ROUNDS = Number(values.rounds ?? 9)
const CONCURRENCY = values.concurrency ?? '16'
const MODEL_DELAY = values['model-delay'] ?? '0'
if (values.only !== undefined && values.only !== 'deployed' && values.only !== 'one-process') {
  throw new Error(`--only takes deployed or one-process, got '${values.only}'`)
}

// `on@MS`: 100% with that batch delay (--delays).
type Mode = 'off' | 'spans' | 'on' | 'direct' | `on@${number}`
const DELAYS = (values.delays ?? '')
  .split(',')
  .filter(Boolean)
  .map((text) => {
    const ms = Number(text)
    if (!Number.isInteger(ms) || ms <= 0) throw new Error(`--delays takes positive milliseconds, got '${text}'`)
    return ms
  })

interface Sample {
  readonly mode: Mode
  readonly runsPerSecond: number
  readonly cpuMsPerRun: number
  /** measure-dev only: the CPU of each process. */
  readonly gateway?: number
  readonly worker?: number
  readonly stored: number
}

async function sample(script: string, mode: Mode): Promise<Sample> {
  const program = fileURLToPath(new URL(script, import.meta.url))
  const [base, delay = ''] = mode.split('@')
  const { stdout } = await exec(
    process.execPath,
    ['--import', 'tsx', program, base ?? mode, RUNS, CONCURRENCY, WARMUP, MODEL_DELAY, delay],
    {
      timeout: 600_000,
    },
  )
  return { ...(JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as Sample), mode }
}

async function measure(script: string, modes: readonly Mode[]): Promise<Sample[]> {
  const samples: Sample[] = []
  for (let round = 0; round < ROUNDS; round++) {
    for (const mode of round % 2 === 0 ? modes : [...modes].reverse()) {
      samples.push(await sample(script, mode))
      process.stderr.write('.')
    }
  }
  process.stderr.write('\n')
  return samples
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0

function report(title: string, samples: readonly Sample[], labels: Partial<Record<Mode, string>>): void {
  const of = (mode: Mode) => samples.filter((s) => s.mode === mode)
  const summary = (mode: Mode) => ({ rps: median(of(mode).map((s) => s.runsPerSecond)), cpu: median(of(mode).map((s) => s.cpuMsPerRun)) })
  const off = summary('off')
  console.log(`\n${title}`)
  console.log(`mode                 runs/s (median)   CPU ms/run   cost: runs/s   CPU    samples (runs/s)`)
  for (const [mode, label] of Object.entries(labels) as [Mode, string][]) {
    const s = summary(mode)
    const cost = mode === 'off' ? '      -       -' : `${pct(1 - s.rps / off.rps).padStart(13)} ${pct(s.cpu / off.cpu - 1).padStart(7)}`
    const rounds = of(mode)
      .map((x) => x.runsPerSecond.toFixed(0))
      .join(', ')
    console.log(`${label.padEnd(20)} ${s.rps.toFixed(0).padStart(15)} ${s.cpu.toFixed(2).padStart(12)} ${cost}    ${rounds}`)
  }
  // Each round measured every mode back to back: its own cost is the paired figure,
  // and their spread says how far the medians above can be trusted.
  for (const mode of Object.keys(labels) as Mode[]) {
    if (mode === 'off') continue
    const costs = of(mode).map((s, round) => 1 - s.runsPerSecond / (of('off')[round]?.runsPerSecond ?? NaN))
    const { mean, half } = interval(costs)
    console.log(`${labels[mode]}: runs/s cost per round ${pct(mean)} ± ${pct(half)} (mean, 95% interval over ${costs.length} rounds)`)
  }
}

/** Mean and the half-width of its 95% confidence interval (Student's t). */
function interval(xs: readonly number[]): { mean: number; half: number } {
  const n = xs.length
  const mean = xs.reduce((a, b) => a + b, 0) / n
  if (n < 2) return { mean, half: NaN }
  const sd = Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1))
  // t(0.975, n-1) for small n; 1.96 past 30 degrees of freedom.
  const T = [12.71, 4.3, 3.18, 2.78, 2.57, 2.45, 2.36, 2.31, 2.26, 2.23, 2.2, 2.18, 2.16, 2.14, 2.13, 2.12, 2.11, 2.1, 2.09, 2.09]
  const t = T[n - 2] ?? (n - 1 < 30 ? 2.06 : 1.96)
  return { mean, half: (t * sd) / Math.sqrt(n) }
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`

console.log(
  `tracing cost: ${RUNS} runs per sample after ${WARMUP} warm-up runs, ${ROUNDS} rounds, concurrency ${CONCURRENCY}, node ${process.version} · model delay ${MODEL_DELAY} ms`,
)
if (values.only !== 'one-process') {
  const traced: Mode[] = DELAYS.length ? DELAYS.map((ms) => `on@${ms}` as const) : ['on']
  const label = (mode: Mode) => (mode === 'on' ? 'tracing 100%' : `100%, delay ${mode.slice(3)} ms`)
  const deployed = await measure('./measure-dev.ts', ['off', ...traced])
  report('as deployed: switchyard dev (gateway process + worker process, OTLP between them)', deployed, {
    off: 'tracing off',
    ...Object.fromEntries(traced.map((mode) => [mode, label(mode)])),
  })
  const med = (mode: Mode, pick: (s: Sample) => number) => median(deployed.filter((s) => s.mode === mode).map(pick))
  const split = (mode: Mode) =>
    `gateway ${med(mode, (s) => s.gateway ?? 0).toFixed(2)} + worker ${med(mode, (s) => s.worker ?? 0).toFixed(2)}`
  console.log(`CPU ms/run by process (medians): off ${split('off')} · ${traced.map((mode) => `${label(mode)} ${split(mode)}`).join(' · ')}`)
  // Tracing's own cost per kept run, re-based: the CPU it adds (100% − off, medians of
  // each process), per run and per span, set against the run itself.
  const us = (x: number) => `${x.toFixed(0)} µs`
  for (const mode of traced) {
    const gatewayUs = (med(mode, (s) => s.gateway ?? 0) - med('off', (s) => s.gateway ?? 0)) * 1000
    const workerUs = (med(mode, (s) => s.worker ?? 0) - med('off', (s) => s.worker ?? 0)) * 1000
    const spans = med(mode, (s) => s.stored)
    const runMs = (Number(CONCURRENCY) / med(mode, (s) => s.runsPerSecond)) * 1000
    const cpuMs = med('off', (s) => s.cpuMsPerRun)
    console.log(
      `${label(mode)}: per kept run (${spans} spans, model delay ${MODEL_DELAY} ms): gateway ${us(gatewayUs)} + worker ${us(workerUs)} = ${us(gatewayUs + workerUs)} CPU` +
        ` · per span ${us((gatewayUs + workerUs) / spans)} (gateway ${us(gatewayUs / spans)}, worker ${us(workerUs / spans)})`,
    )
    console.log(
      `  against the run: ${pct((gatewayUs + workerUs) / 1000 / runMs)} of its ${runMs.toFixed(1)} ms (mean latency at concurrency ${CONCURRENCY}) · ` +
        `${pct((gatewayUs + workerUs) / 1000 / cpuMs)} of its ${cpuMs.toFixed(2)} ms of CPU untraced · target ≤ 1% of a model-bound run`,
    )
  }
}
if (values.only !== 'deployed') {
  const one = await measure('./measure.ts', ['off', 'spans', 'on', 'direct'])
  report('all in one process (gateway, worker, receiver and store on one thread; a diagnostic: dev and start run workers apart)', one, {
    off: 'tracing off',
    spans: 'spans only',
    on: 'tracing 100%',
    direct: '100%, direct',
  })
  const stored = (mode: Mode) =>
    one
      .filter((s) => s.mode === mode)
      .map((s) => s.stored)
      .join(', ')
  console.log(`runs found in the store per sample (listRuns, limit 1000): 100% ${stored('on')} · direct ${stored('direct')}`)
}
