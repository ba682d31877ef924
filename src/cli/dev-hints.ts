// What `switchyard dev` prints once the gateway is up: a first run to paste, as the
// CLI and as curl, for the first workflow that ships an example input, and where the
// console is. Paths are relative to the directory the command was started from.
import { existsSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import type { Registry } from '../control/index.js'
import { DEFAULT_URL } from '../observe/view/index.js'

export interface TryItOptions {
  readonly registry: Registry
  /** The gateway's base URL, e.g. http://127.0.0.1:7070. */
  readonly url: string
  /** Bearer tokens are required: the commands send `$TOKEN`. */
  readonly auth: boolean
  /** @default process.cwd() */
  readonly cwd?: string
}

/** The example input of the first workflow (registry order) with an example.json beside its graph module. */
export function firstExample(registry: Registry): { readonly workflow: string; readonly file: string } | null {
  for (const workflow of registry.workflows.values()) {
    const file = join(dirname(workflow.graph.module), 'example.json')
    if (existsSync(file)) return { workflow: workflow.name, file }
  }
  return null
}

/**
 * Lines to print: a ready-to-paste `switchyard run … --trace` and the same run with curl, plus the console.
 *
 * @example
 * for (const line of tryItLines({ registry, url: gateway.url, auth: false })) console.log(line)
 */
export function tryItLines(options: TryItOptions): string[] {
  const base = options.url.replace(/\/+$/, '')
  const lines = [`  console (runs, traces, pools, workflows): ${base}/`]
  const example = firstExample(options.registry)
  if (example === null) return lines
  const file = relative(options.cwd ?? process.cwd(), example.file) || example.file
  const url = base === DEFAULT_URL ? [] : ['--url', base]
  // Double quotes: the shell expands $TOKEN (single quotes would send it literally).
  const token = options.auth ? ['--token', '"$TOKEN"'] : []
  const header = options.auth ? ['-H', '"authorization: Bearer $TOKEN"'] : []
  const run = ['npx', 'switchyard', 'run', example.workflow, '--input', quote(`@${file}`), ...url, ...token, '--trace']
  const curl = [
    'curl',
    '-s',
    `${base}/v1/workflows/${example.workflow}/run`,
    '-H',
    "'content-type: application/json'",
    ...header,
    '-d',
    quote(`@${file}`),
  ]
  return [
    `  try it${options.auth ? ' (with TOKEN set to one of SWITCHYARD_TOKENS)' : ''}:`,
    `  ${run.join(' ')}`,
    `  ${curl.join(' ')}`,
    ...lines,
  ]
}

/** A shell word: as it is when it is plain, else single-quoted. */
function quote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`
}
