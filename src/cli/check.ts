// `switchyard check`: the registry (every problem, located), then the graph
// modules' imports. Exit 0 when clean, 1 otherwise; --json for tools.
// When the registry is clean its compiled form is written for the runtime.
import { isAbsolute, relative } from 'node:path'
import { rebuildRegistry, type RegistryProblem } from '../control/index.js'
import {
  findMissingExports,
  graphFiles,
  lintGraphs,
  writeResolvedRegistry,
  type ImportOffence,
  type MissingExport,
  type PythonFileLint,
} from '../control/tooling/index.js'
import { CONFIG_OPTION, configPath, parse } from './args.js'
import { pythonLint } from './python-lint.js'

const HELP = `usage: switchyard check [--config FILE] [--json]

Validates the registry file (duplicate or invalid names, unknown pools and keys,
missing files, bad durations, sizes and sample rates, invalid JSON Schemas), then
checks that every graph module exports the name the registry gives it and that it
and the files under its folder import nothing at module level except types and
'switchyard-ai/graph' (Python graphs: only typing, __future__ and switchyard_worker,
read on Python's own AST by python3 -m switchyard_worker.lint). Writes the compiled registry and its resolved JSON form
(.switchyard/ beside the file; Python workers read the latter) when the registry is clean.

  --config FILE  registry file (default: SWITCHYARD_CONFIG or ./switchyard.yaml)
  --json         print one JSON object: { ok, config, digest, pools, workflows, problems, exports, imports }`

/** Machine output of `switchyard check --json`. */
export interface CheckReport {
  readonly ok: boolean
  readonly config: string
  readonly digest: string | null
  readonly pools: number
  readonly workflows: number
  readonly problems: readonly RegistryProblem[]
  readonly exports: readonly MissingExport[]
  readonly imports: readonly ImportOffence[]
}

function shown(path: string): string {
  const rel = relative(process.cwd(), path)
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path
}

/** Run the checks without printing. */
export function check(config: string): CheckReport {
  const { registry, problems } = rebuildRegistry(config)
  // Python graph files are read by Python's own AST: every one at once, with one interpreter.
  const pythonFiles = registry ? graphFiles(registry).filter((file) => file.endsWith('.py')) : []
  const linted: ReadonlyMap<string, PythonFileLint> = pythonFiles.length > 0 ? pythonLint()(pythonFiles) : new Map()
  const python = { python: () => linted }
  const exports = registry ? findMissingExports(registry, python).map((m) => ({ ...m, file: shown(m.file) })) : []
  const imports = registry ? lintGraphs(registry, python).map((o) => ({ ...o, file: shown(o.file) })) : []
  // Workers in other languages read this resolved form, never the YAML (spec/resolved-registry.schema.json).
  if (registry) writeResolvedRegistry(registry)
  return {
    ok: problems.length === 0 && exports.length === 0 && imports.length === 0,
    config: shown(config),
    digest: registry?.digest ?? null,
    pools: registry?.pools.size ?? 0,
    workflows: registry?.workflows.size ?? 0,
    problems,
    exports,
    imports,
  }
}

/** The report as a person reads it: one `file:line:col: message` per problem. */
export function formatReport(report: CheckReport): string {
  const lines = [
    ...report.problems.map((p) => `${p.file}${p.line ? `:${p.line}:${p.column}` : ''}: ${p.message}`),
    ...report.exports.map((m) => `${m.file}: ${m.message}`),
    ...report.imports.map((o) => `${o.file}:${o.line}:${o.column}: ${o.message}`),
  ]
  const count = report.problems.length + report.exports.length + report.imports.length
  if (report.ok) {
    lines.push(
      `✓ ${report.config}: ${report.workflows} workflow${report.workflows === 1 ? '' : 's'} in ${report.pools} pool${report.pools === 1 ? '' : 's'}, graphs clean, registry ${report.digest}`,
    )
  } else {
    const what = report.problems.length ? 'registry' : 'graph modules'
    lines.push(`✗ ${report.config}: ${count} problem${count === 1 ? '' : 's'} (${what})`)
  }
  return lines.join('\n')
}

export async function run(args: string[]): Promise<number> {
  const { values } = parse(args, { ...CONFIG_OPTION, json: { type: 'boolean' } })
  if (values.help) {
    console.log(HELP)
    return 0
  }
  const report = check(configPath(typeof values.config === 'string' ? values.config : undefined))
  if (values.json) console.log(JSON.stringify(report, null, 2))
  else if (report.ok) console.log(formatReport(report))
  else console.error(formatReport(report))
  return report.ok ? 0 : 1
}
