// The offline model's structured answers: a plausible object built from a JSON
// Schema and the conversation, deterministically. Values come, in order, from
// `<field>…</field>` or `field: value` in the messages (newest first), an enum
// value the messages mention, the schema's default/examples, then a filler.
// Free-text strings are prefixed "[offline] " so nobody mistakes them for a model's.
import type { ChatMessage } from './types.js'

type Schema = { readonly [key: string]: unknown }

export const OFFLINE_LABEL = '[offline]'

/** Build a value for `schema` from the conversation. */
export function offlineObject(schema: Schema, messages: readonly ChatMessage[]): unknown {
  const texts = messages
    .filter((m) => m.role !== 'assistant')
    .map((m) => m.content)
    .reverse()
  return build(schema, 'answer', texts, 0)
}

function build(schema: Schema, name: string, texts: readonly string[], depth: number): unknown {
  if ('const' in schema) return schema.const
  if (Array.isArray(schema.enum)) return pickEnum(schema.enum, name, texts)
  const branch = firstBranch(schema)
  if (branch) return build(branch, name, texts, depth)
  const types = typesOf(schema)
  const found = depth > 0 || types.includes('string') ? labelled(name, texts) : undefined
  const nullable = types.includes('null')
  const type = types.find((t) => t !== 'null') ?? (nullable ? 'null' : 'string')
  switch (type) {
    case 'object':
      return buildObject(schema, texts, depth)
    case 'array':
      return buildArray(schema, name, found, texts, depth)
    case 'number':
    case 'integer':
      return buildNumber(schema, found, type === 'integer')
    case 'boolean':
      return found === undefined ? (typeof schema.default === 'boolean' ? schema.default : false) : /^(true|yes|1)$/i.test(found)
    case 'null':
      return null
    default:
      return buildString(schema, name, found, nullable)
  }
}

function buildObject(schema: Schema, texts: readonly string[], depth: number): Record<string, unknown> {
  const properties = (schema.properties ?? {}) as Record<string, Schema>
  const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : Object.keys(properties))
  const out: Record<string, unknown> = {}
  for (const [key, child] of Object.entries(properties)) {
    const hinted = labelled(key, texts) !== undefined
    if (required.has(key) || hinted || 'default' in child) out[key] = build(child, key, texts, depth + 1)
  }
  return out
}

function buildArray(schema: Schema, name: string, found: string | undefined, texts: readonly string[], depth: number): unknown[] {
  const items = (schema.items ?? { type: 'string' }) as Schema
  const min = typeof schema.minItems === 'number' ? schema.minItems : 0
  const max = typeof schema.maxItems === 'number' ? schema.maxItems : Infinity
  if (found !== undefined && typesOf(items).includes('string') && !Array.isArray(items.enum)) {
    const parts = found
      .split(/\s*[;\n]\s*|\s*,\s+/)
      .filter(Boolean)
      .slice(0, max)
    if (parts.length >= min) return parts
  }
  if (Array.isArray(schema.default)) return schema.default as unknown[]
  // Nothing in the conversation to draw on: as few items as the schema allows.
  return Array.from({ length: min }, () => build(items, singular(name), texts, depth + 1))
}

function buildNumber(schema: Schema, found: string | undefined, integer: boolean): number {
  const lo = typeof schema.minimum === 'number' ? schema.minimum : undefined
  const hi = typeof schema.maximum === 'number' ? schema.maximum : undefined
  let value = found !== undefined && Number.isFinite(Number(found)) ? Number(found) : undefined
  if (value === undefined && typeof schema.default === 'number') value = schema.default
  // Without a hint, a middling value: an offline guess should never look confident.
  value ??= lo !== undefined && hi !== undefined ? (lo + hi) / 2 : (lo ?? 0)
  if (lo !== undefined) value = Math.max(lo, value)
  if (hi !== undefined) value = Math.min(hi, value)
  return integer ? Math.round(value) : value
}

function buildString(schema: Schema, name: string, found: string | undefined, nullable: boolean): string | null {
  const constrained = typeof schema.pattern === 'string' || typeof schema.format === 'string'
  const pattern = typeof schema.pattern === 'string' ? new RegExp(schema.pattern, 'u') : null
  const candidates = [
    found,
    typeof schema.default === 'string' ? schema.default : undefined,
    ...(Array.isArray(schema.examples) ? schema.examples : []),
  ]
  for (const candidate of candidates) {
    if (typeof candidate !== 'string') continue
    if (pattern && !pattern.test(candidate)) continue
    return constrained || candidate === schema.default ? candidate : fit(label(candidate), schema)
  }
  if (constrained) return nullable ? null : formatFiller(schema.format)
  return fit(`${OFFLINE_LABEL} ${name.replace(/[_-]+/g, ' ')}`, schema)
}

function pickEnum(values: readonly unknown[], name: string, texts: readonly string[]): unknown {
  const hint = labelled(name, texts)
  const exact = values.find((v) => hint !== undefined && String(v).toLowerCase() === hint.toLowerCase())
  if (exact !== undefined) return exact
  // The value mentioned first in the newest message that mentions any.
  for (const text of texts) {
    let best: { value: unknown; at: number } | undefined
    for (const value of values) {
      if (value === null) continue
      const at = text.search(new RegExp(`\\b${escape(String(value))}\\b`, 'i'))
      if (at >= 0 && (best === undefined || at < best.at)) best = { value, at }
    }
    if (best) return best.value
  }
  return values[0]
}

/** `<name>value</name>` (multi-line) or a `name: value` line, newest message first. */
function labelled(name: string, texts: readonly string[]): string | undefined {
  const tag = new RegExp(`<${escape(name)}>\\s*([\\s\\S]*?)\\s*</${escape(name)}>`, 'i')
  const line = new RegExp(`^[ \\t>*-]*${escape(name)}[ \\t]*:[ \\t]*(\\S.*)$`, 'im')
  for (const text of texts) {
    const match = tag.exec(text) ?? line.exec(text)
    if (match?.[1] !== undefined) return match[1].trim()
  }
  return undefined
}

function firstBranch(schema: Schema): Schema | undefined {
  const list = (schema.anyOf ?? schema.oneOf) as Schema[] | undefined
  if (!Array.isArray(list) || list.length === 0) return undefined
  return list.find((s) => !typesOf(s).every((t) => t === 'null')) ?? list[0]
}

function typesOf(schema: Schema): string[] {
  if (Array.isArray(schema.type)) return schema.type as string[]
  if (typeof schema.type === 'string') return [schema.type]
  if (schema.properties) return ['object']
  if (schema.items) return ['array']
  return ['string']
}

function label(text: string): string {
  return text.startsWith(OFFLINE_LABEL) ? text : `${OFFLINE_LABEL} ${text}`
}

function fit(text: string, schema: Schema): string {
  const max = typeof schema.maxLength === 'number' ? schema.maxLength : Infinity
  const min = typeof schema.minLength === 'number' ? schema.minLength : 0
  const cut = text.length > max ? text.slice(0, max) : text
  return cut.length < min ? cut.padEnd(min, '.') : cut
}

function formatFiller(format: unknown): string {
  switch (format) {
    case 'email':
      return 'offline@example.invalid'
    case 'uri':
    case 'url':
      return 'https://example.invalid/offline'
    case 'date-time':
      return '1970-01-01T00:00:00.000Z'
    case 'date':
      return '1970-01-01'
    default:
      return OFFLINE_LABEL
  }
}

function singular(name: string): string {
  return name.endsWith('s') ? name.slice(0, -1) : name
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
