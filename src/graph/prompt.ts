// Prompt files: Markdown with optional front matter (model parameters) and
// {{variables}}. Loaded synchronously and cheaply: graph modules call this at
// module level, so it must not pull a YAML parser or anything heavy.
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { SwitchyardError } from '../control/contract/index.js'
import type { Prompt } from './types.js'

const FRONT_MATTER = /^---\r?\n([\s\S]*?)\r?\n---\r?\n?/
const VARIABLE = /\{\{\s*([A-Za-z_][\w.]*)\s*\}\}/g

/**
 * Load a prompt file.
 *
 * @example
 * const prompt = loadPrompt(new URL('./prompt.md', import.meta.url).pathname)
 * prompt.render({ name: 'Ada' })   // throws PROMPT_VARIABLE_MISSING when a {{variable}} has no value
 */
export function loadPrompt(path: string): Prompt {
  const absolute = resolve(path)
  let bytes: Buffer
  try {
    bytes = readFileSync(absolute)
  } catch (error) {
    throw new SwitchyardError('PROMPT_NOT_FOUND', `cannot read prompt ${absolute}: ${(error as Error).message}`, {
      cause: error,
    })
  }
  return parsePrompt(bytes.toString('utf8'), absolute, `sha256:${createHash('sha256').update(bytes).digest('hex')}`)
}

/** Build a Prompt from text already in memory (tests, inline prompts). */
export function parsePrompt(source: string, path = '<inline>', hash?: string): Prompt {
  const match = FRONT_MATTER.exec(source)
  const params = match ? parseFrontMatter(match[1] ?? '', path) : {}
  const text = match ? source.slice(match[0].length) : source
  const digest = hash ?? `sha256:${createHash('sha256').update(source).digest('hex')}`
  return Object.freeze({
    path,
    text,
    hash: digest,
    params: Object.freeze(params),
    render: (vars: Readonly<Record<string, unknown>>) => renderTemplate(text, vars, path),
  })
}

/** The {{variables}} a prompt uses, in order of first appearance. */
export function promptVariables(text: string): string[] {
  return [...new Set([...text.matchAll(VARIABLE)].map((m) => m[1] ?? ''))]
}

function renderTemplate(text: string, vars: Readonly<Record<string, unknown>>, path: string): string {
  const missing = promptVariables(text).filter((name) => lookup(vars, name) === undefined)
  if (missing.length > 0) {
    throw new SwitchyardError(
      'PROMPT_VARIABLE_MISSING',
      `prompt ${path} needs ${missing.map((n) => `{{${n}}}`).join(', ')} but no value was given`,
    )
  }
  return text.replace(VARIABLE, (_all, name: string) => format(lookup(vars, name)))
}

// Dotted names reach into objects ({{lead.company}}), so a graph can pass its state whole.
function lookup(vars: Readonly<Record<string, unknown>>, name: string): unknown {
  let value: unknown = vars
  for (const part of name.split('.')) {
    if (value === null || typeof value !== 'object') return undefined
    value = (value as Record<string, unknown>)[part]
  }
  return value ?? undefined
}

function format(value: unknown): string {
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  if (Array.isArray(value) && value.every((v) => typeof v !== 'object' || v === null)) return value.join(', ')
  return JSON.stringify(value, null, 2)
}

// Front matter is flat `key: value` lines (model parameters). Values are read as
// JSON when they parse (numbers, booleans, arrays), else as plain strings.
function parseFrontMatter(block: string, path: string): Record<string, unknown> {
  const params: Record<string, unknown> = {}
  block.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) return
    const colon = line.indexOf(':')
    if (colon <= 0) {
      throw new SwitchyardError('PROMPT_INVALID', `${path}:${index + 2}: front matter line is not 'key: value': ${line}`)
    }
    const key = line.slice(0, colon).trim()
    const value = line.slice(colon + 1).trim()
    params[key] = parseValue(value)
  })
  return params
}

function parseValue(value: string): unknown {
  if (value === '') return ''
  if (/^(['"]).*\1$/.test(value) && value.startsWith("'")) return value.slice(1, -1)
  try {
    return JSON.parse(value) as unknown
  } catch {
    return value
  }
}
