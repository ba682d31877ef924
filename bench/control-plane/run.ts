// Control-plane benchmark (issue: "Foundation and the control plane").
//   npx tsx bench/control-plane/run.ts [--rounds 15] [--calls 200000] [--before DIR]
// Cold start: process start → registry of N workflows loaded → first route()
// returned, for N = 10, 100, 1,000 (and 1,000 sharing ten schema files; with
// check: 'load'), side by side (interleaved rounds, medians) with bare `node -e ""`,
// bare `node empty.mjs` (the ES module entry any ESM program pays; both differences are
// printed) and an "eager" registry that imports 50 LangGraph graph modules at startup;
// then the same cold starts split into import, load and first route() inside the
// process. Then route() p50 at 10 vs 10,000 workflows, and what each cold-path choice
// saves. Everything runs from src/control built as `npm run build` ships it; at N=1,000
// also as tsc's one file per module, and (--before DIR, another checkout such as a
// worktree of main) as that checkout's build ships its own sources, one schema file per
// workflow and ten shared, in the same interleaved rounds.
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { buildSync } from 'esbuild'
import { buildControl } from './build-control.js'
import { generateRegistry, typicalInput } from './generate-registry.js'

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '15' }, calls: { type: 'string', default: '200000' }, before: { type: 'string' } },
})
const ROUNDS = Number(values.rounds)
const CALLS = Number(values.calls)
const REPO = resolve(import.meta.dirname, '../..')

// Every child prints its process CPU time (all threads, since process start) last.
const CPU = 'const cpu = process.cpuUsage(); console.log((cpu.user + cpu.system) / 1000)'
const LAZY_CHILD = `const { loadRegistry, route } = await import(process.argv[2])
const registry = loadRegistry(process.argv[3], process.argv[6] ? JSON.parse(process.argv[6]) : undefined)
route(registry, { workflow: process.argv[4], input: JSON.parse(process.argv[5]) })
${CPU}
`
const EAGER_CHILD = `import { pathToFileURL } from 'node:url'
const { loadRegistry, route } = await import(process.argv[2])
const registry = loadRegistry(process.argv[3])
// What a server that compiles every graph on boot pays.
for (const workflow of registry.workflows.values()) {
  const module = await import(pathToFileURL(workflow.graph.module).href)
  module[workflow.graph.export]()
}
route(registry, { workflow: process.argv[4], input: JSON.parse(process.argv[5]) })
${CPU}
`
const EAGER_GRAPH = (i: number) => `import { StateGraph, Annotation, START, END } from '@langchain/langgraph'
const State = Annotation.Root({ input: Annotation(), output: Annotation() })
export function graph() {
  return new StateGraph(State)
    .addNode('draft', (state) => ({ output: { text: 'draft ${i}', input: state.input } }))
    .addNode('check', (state) => ({ output: state.output }))
    .addEdge(START, 'draft').addEdge('draft', 'check').addEdge('check', END)
    .compile()
}
`
// Where a cold start's time goes inside the process: import, loadRegistry, first route().
const PHASES_CHILD = `const t0 = performance.now()
const { loadRegistry, route } = await import(process.argv[2])
const t1 = performance.now()
const registry = loadRegistry(process.argv[3], process.argv[6] ? JSON.parse(process.argv[6]) : undefined)
const t2 = performance.now()
route(registry, { workflow: process.argv[4], input: JSON.parse(process.argv[5]) })
const t3 = performance.now()
console.log(JSON.stringify([t1 - t0, t2 - t1, t3 - t2]))
`
const ROUTE_CHILD = `const { loadRegistry, route } = await import(process.argv[2])
const registry = loadRegistry(process.argv[3])
const request = { workflow: process.argv[4], input: JSON.parse(process.argv[5]) }
const calls = Number(process.argv[6]), batch = 100
for (let i = 0; i < calls / 4; i++) route(registry, request) // warm up
const perCall = []
for (let b = 0; b < calls / batch; b++) {
  const start = process.hrtime.bigint()
  for (let i = 0; i < batch; i++) route(registry, request)
  perCall.push(Number(process.hrtime.bigint() - start) / batch / 1000)
}
perCall.sort((x, y) => x - y)
console.log(JSON.stringify({ p50: perCall[Math.floor(perCall.length / 2)], p90: perCall[Math.floor(perCall.length * 0.9)] }))
`

/** Set every file's mtime a minute back: the state after `switchyard check` some time ago. */
function age(dir: string): void {
  const past = new Date(Date.now() - 60_000)
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const path = join(entry.parentPath, entry.name)
    if (entry.isFile()) utimesSync(path, past, past)
  }
}

/** Wall time of the whole child process, and the CPU time it reports. */
function measure(args: string[]): { wall: number; cpu: number } {
  const start = process.hrtime.bigint()
  const result = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 60_000 })
  const wall = Number(process.hrtime.bigint() - start) / 1e6
  if (result.status !== 0) throw new Error(`${args.join(' ')} failed: ${result.stderr}`)
  return { wall, cpu: Number(result.stdout.trim().split('\n').at(-1)) }
}

/** stdout of `node --input-type=module -e code ...args`; a child that fails fails the benchmark with its stderr. */
function evalChild(code: string, ...args: string[]): string {
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', code, ...args], { encoding: 'utf8', timeout: 120_000 })
  if (result.status !== 0 || result.stdout.trim() === '')
    throw new Error(`node -e failed (${String(result.status)}): ${result.stderr}\n${code}`)
  return result.stdout
}

const EMPTY_ESM = 'bare node empty.mjs (ESM)'
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN

const built = await buildControl()
const files = await buildControl(REPO, 'files')
const before = values.before === undefined ? undefined : await buildControl(resolve(values.before))
const cache = join(REPO, 'node_modules', '.cache')
mkdirSync(cache, { recursive: true })
// Inside the repo so the eager graphs resolve @langchain/langgraph.
const work = mkdtempSync(join(cache, 'switchyard-bench-'))
try {
  writeFileSync(join(work, 'lazy.mjs'), LAZY_CHILD)
  writeFileSync(join(work, 'eager.mjs'), EAGER_CHILD)
  writeFileSync(join(work, 'route.mjs'), ROUTE_CHILD)
  writeFileSync(join(work, 'phases.mjs'), PHASES_CHILD)
  writeFileSync(join(work, 'empty.mjs'), CPU)
  const input = JSON.stringify(typicalInput(7))
  // label → [control's index.js, registry file, loadRegistry options as JSON ('' for none)]
  const registries = new Map<string, [string, string, string?]>()
  for (const n of [10, 100, 1000])
    registries.set(`switchyard-ai/control, N=${n}`, [built.url, generateRegistry(join(work, `lazy-${n}`), n)])
  // The same 1,000 workflows sharing ten schema files: shows what verifying 1,000 files costs.
  registries.set('switchyard-ai/control, N=1000, 10 schemas', [
    built.url,
    generateRegistry(join(work, 'lazy-1000-shared'), 1000, { layout: 'shared' }),
  ])
  // What a server pays that checks every workflow's files at load (gateway, dev, start).
  registries.set('N=1000, check: load', [built.url, join(work, 'lazy-1000', 'switchyard.yaml'), JSON.stringify({ check: 'load' })])
  registries.set('N=1000, 10 schemas, check: load', [
    built.url,
    join(work, 'lazy-1000-shared', 'switchyard.yaml'),
    JSON.stringify({ check: 'load' }),
  ])
  registries.set('N=1000, as tsc files', [files.url, join(work, 'lazy-1000', 'switchyard.yaml')])
  // Its own copy: another checkout may write another compiled format.
  if (before) {
    registries.set('N=1000, --before', [before.url, generateRegistry(join(work, 'before-1000'), 1000)])
    registries.set('N=1000, 10 schemas, --before', [
      before.url,
      generateRegistry(join(work, 'before-1000-shared'), 1000, { layout: 'shared' }),
    ])
  }
  const eager = generateRegistry(join(work, 'eager-50'), 50, { graph: EAGER_GRAPH })
  age(work)
  // First load compiles and writes .switchyard/ (what `switchyard check` does); not timed.
  const loadAll = () => {
    for (const [url, file, options] of [...registries.values(), [built.url, eager] as const])
      measure([join(work, 'lazy.mjs'), url, file, 'sales.flow-7', input, options ?? ''])
  }
  loadAll()
  // Stamps (ctime too, which age() moved) within a second of a build are not trusted
  // yet: once that second is past, one more load restamps them, as a check some time ago would have.
  await new Promise((done) => setTimeout(done, 1100))
  loadAll()

  const cases: Array<[string, string[]]> = [
    ['bare node -e ""', ['-e', CPU]],
    [EMPTY_ESM, [join(work, 'empty.mjs')]],
    ...[...registries].map(([label, [url, file, options]]): [string, string[]] => [
      label,
      [join(work, 'lazy.mjs'), url, file, 'sales.flow-7', input, options ?? ''],
    ]),
    ['eager: 50 LangGraph graphs at boot', [join(work, 'eager.mjs'), built.url, eager, 'sales.flow-7', input]],
  ]
  const wall = new Map(cases.map(([label]) => [label, [] as number[]]))
  const cpu = new Map(cases.map(([label]) => [label, [] as number[]]))
  for (let round = 0; round < ROUNDS; round++) {
    for (const [label, args] of cases) {
      const sample = measure(args)
      wall.get(label)?.push(sample.wall)
      cpu.get(label)?.push(sample.cpu)
    }
  }
  const EAGER = 'eager: 50 LangGraph graphs at boot'
  const table = (title: string, samples: Map<string, number[]>) => {
    const bare = median(samples.get('bare node -e ""') ?? [])
    const esm = median(samples.get(EMPTY_ESM) ?? [])
    const eagerMs = median(samples.get(EAGER) ?? [])
    console.log(`\n${title} (median of ${ROUNDS} interleaved rounds)`)
    console.log(
      `${'case'.padEnd(38)} ${'ms'.padStart(8)} ${'− bare'.padStart(8)} ${'− ESM'.padStart(8)} ${'× bare'.padStart(8)} ${'eager ÷'.padStart(8)} ${'eager−bare ÷'.padStart(13)}`,
    )
    for (const [label] of cases) {
      const ms = median(samples.get(label) ?? [])
      const overhead = ms - bare
      console.log(
        `${label.padEnd(38)} ${ms.toFixed(1).padStart(8)} ${overhead.toFixed(1).padStart(8)} ${(ms - esm).toFixed(1).padStart(8)} ${(ms / bare).toFixed(2).padStart(8)} ${(eagerMs / ms).toFixed(1).padStart(8)} ${(overhead > 0 ? ((eagerMs - bare) / overhead).toFixed(1) : '-').padStart(13)}`,
      )
    }
  }
  console.log(
    `load average: ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} on ${cpus().length} CPUs`,
  )
  table('Cold start, wall clock: spawn → loaded → first route() → exit', wall)
  table('Cold start, CPU time of the process (user + system, all threads)', cpu)
  const compiled = statSync(join(work, 'lazy-1000', '.switchyard', 'switchyard.yaml.compiled.json')).size
  console.log(
    `(N=1,000: one schema file per workflow, compiled form ${(compiled / 1024).toFixed(0)} KB. At load, the registry file, the pools' env files and every symlink are verified; a workflow's schema files, graph module and prompt on its first use, so one route() verifies 1 schema file and 1 folder. check: load verifies all 1,000 workflows at load: 1,001 files by size, mtime, ctime and inode, 2,000 graph modules and prompts vouched for by their 1,000 folders' stamps)`,
  )
  console.log(
    '(− bare: over bare `node -e ""`; − ESM: over bare `node empty.mjs`, an empty ES module, which every ESM program pays on top of − bare and none of it ours; eager ÷: total time ratio; eager−bare ÷: ratio of the time each adds on top of bare node -e)',
  )

  console.log(`\nInside the process, ms (median of ${ROUNDS})`)
  console.log(`${'case'.padEnd(38)} ${'import'.padStart(8)} ${'load'.padStart(8)} ${'route'.padStart(8)}`)
  // Interleaved too: one round runs every case once.
  const phases = new Map([...registries.keys()].map((label) => [label, [] as number[][]]))
  for (let round = 0; round < ROUNDS; round++) {
    for (const [label, [url, file, options]] of registries) {
      const result = spawnSync(process.execPath, [join(work, 'phases.mjs'), url, file, 'sales.flow-7', input, options ?? ''], {
        encoding: 'utf8',
      })
      if (result.status !== 0) throw new Error(result.stderr)
      phases.get(label)?.push(JSON.parse(result.stdout) as number[])
    }
  }
  for (const [label, samples] of phases) {
    const phase = (k: number) =>
      median(samples.map((sample) => sample[k] ?? NaN))
        .toFixed(2)
        .padStart(8)
    console.log(`${label.padEnd(38)} ${phase(0)} ${phase(1)} ${phase(2)}`)
  }

  const small = generateRegistry(join(work, 'route-10'), 10, { layout: 'shared' })
  const large = generateRegistry(join(work, 'route-10000'), 10_000, { layout: 'shared' })
  const routeStats = (file: string) => {
    const result = spawnSync(process.execPath, [join(work, 'route.mjs'), built.url, file, 'sales.flow-7', input, String(CALLS)], {
      encoding: 'utf8',
      timeout: 300_000,
    })
    if (result.status !== 0) throw new Error(result.stderr)
    return JSON.parse(result.stdout) as { p50: number; p90: number }
  }
  routeStats(small) // compiles both registries' caches before anything is timed
  routeStats(large)
  const r10 = routeStats(small)
  const r10k = routeStats(large)
  console.log(`\nroute() on a typical input (${CALLS.toLocaleString('en')} calls, batches of 100; µs per call)`)
  console.log(`${'workflows'.padEnd(12)} ${'p50'.padStart(8)} ${'p90'.padStart(8)}`)
  console.log(`${'10'.padEnd(12)} ${r10.p50.toFixed(2).padStart(8)} ${r10.p90.toFixed(2).padStart(8)}`)
  console.log(`${'10,000'.padEnd(12)} ${r10k.p50.toFixed(2).padStart(8)} ${r10k.p90.toFixed(2).padStart(8)}`)
  console.log(`ratio p50 10,000 ÷ 10: ${(r10k.p50 / r10.p50).toFixed(2)}`)

  // Two choices route() and loadRegistry make, each with what the stock way costs.
  // `node -e code arg`: the first argument after the code is process.argv[1].
  const cloneChild = `const input = JSON.parse(process.argv[1])
const cloneJson = (v) => v === null || typeof v !== 'object' ? v : Array.isArray(v) ? v.map(cloneJson) : Object.fromEntries(Object.entries(v).map(([k, x]) => [k, cloneJson(x)]))
const time = (fn) => { for (let i = 0; i < 200000; i++) fn(); const t = process.hrtime.bigint(); for (let i = 0; i < 1000000; i++) fn(); return Number(process.hrtime.bigint() - t) / 1e9 }
console.log(JSON.stringify({ walk: time(() => cloneJson(input)), structuredClone: time(() => structuredClone(input)) }))`
  const clone = JSON.parse(evalChild(cloneChild, input)) as { walk: number; structuredClone: number }
  console.log(
    `\ncopying the typical input (µs per call): a JSON walk (route's cloneJson) ${clone.walk.toFixed(2)} · structuredClone ${clone.structuredClone.toFixed(2)}`,
  )
  const importCost = (code: string) =>
    median(
      Array.from({ length: ROUNDS }, () => {
        return Number(evalChild(`const t = performance.now(); ${code}; console.log(performance.now() - t)`))
      }),
    )
  const viaImport = importCost("await import('node:fs')")
  const viaBuiltin = importCost("process.getBuiltinModule('node:fs')")
  const pathImport = importCost("await import('node:path')")
  console.log(
    `node:fs in a fresh process (ms, median of ${ROUNDS}): import ${viaImport.toFixed(2)} · process.getBuiltinModule ${viaBuiltin.toFixed(2)} (loadRegistry's way) · node:path import ${pathImport.toFixed(2)}`,
  )
  // Where a cache-fresh load of 1,000 workflows goes now that workflows are checked on first use:
  // node:crypto for the compiled form's MAC (a gateway loads it anyway, to sign envelopes), the
  // MAC over the file, and one JSON.parse of it.
  const compiledFile = join(work, 'lazy-1000', '.switchyard', 'switchyard.yaml.compiled.json')
  const cryptoLoad = importCost("process.getBuiltinModule('node:crypto')")
  const readParse = importCost(
    `const text = process.getBuiltinModule('node:fs').readFileSync(${JSON.stringify(compiledFile)}, 'utf8'); JSON.parse(text.slice(text.indexOf('\\n') + 1))`,
  )
  const readMac = importCost(
    `const c = process.getBuiltinModule('node:crypto'); const text = process.getBuiltinModule('node:fs').readFileSync(${JSON.stringify(compiledFile)}, 'utf8'); c.createHmac('sha256', c.randomBytes(32)).update(text).digest('hex')`,
  )
  console.log(
    `N=1,000 compiled form (${(compiled / 1024).toFixed(0)} KB) in a fresh process (ms, median of ${ROUNDS}): node:crypto ${cryptoLoad.toFixed(2)} · read + JSON.parse ${readParse.toFixed(2)} · node:crypto + read + HMAC-SHA256 ${readMac.toFixed(2)}`,
  )
  // What route() avoids by running the standalone validator code the compiled registry keeps.
  const ajvImport = importCost("await import('ajv/dist/2020.js'); await import('ajv-formats')")
  console.log(
    `Ajv 2020 + ajv-formats in a fresh process (ms, median of ${ROUNDS}): import ${ajvImport.toFixed(2)} (route() never loads them)`,
  )
  // Where import time goes: Node's ES module loader reads and links each file on its own
  // (tsc's ~20 files on the routing path, the build's few chunks); the same code bundled
  // into one file shows that cost, which no single module's work explains.
  const bundle = join(work, 'control-bundle.mjs')
  buildSync({
    entryPoints: [fileURLToPath(built.url)],
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile: bundle,
    logLevel: 'warning',
  })
  const timedImport = (url: string) => `await import(${JSON.stringify(url)})`
  const filesImport = importCost(timedImport(files.url))
  const builtImport = importCost(timedImport(built.url))
  const bundleImport = importCost(timedImport(pathToFileURL(bundle).href))
  console.log(
    `switchyard-ai/control in a fresh process (ms, median of ${ROUNDS}): import ${filesImport.toFixed(2)} as tsc files · ${builtImport.toFixed(2)} as built · ${bundleImport.toFixed(2)} bundled into one file`,
  )
} finally {
  rmSync(work, { recursive: true, force: true })
  built.remove()
  files.remove()
  before?.remove()
}
