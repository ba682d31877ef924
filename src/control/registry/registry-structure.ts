// Cold path: the registry's structure — its keys, their types, names, units' shapes,
// required fields — checked against spec/registry.schema.json with Ajv, the same
// schema editors and other languages read. What a schema cannot state (a pool that
// exists, a file inside the registry's folder, a heap cap of at least 64mb, an input
// schema that compiles) stays with registry-compiler.ts. This module only words
// Ajv's errors the way a person wrote the registry: one problem per place, by name.
import { readFileSync } from 'node:fs'
import { requireHere } from './node-builtins.js'
import { suggest } from '../suggest.js'

/** One structure problem: where (JSON pointer segments; `atKey`: at the key, not its value) and why. */
export interface StructureProblem {
  readonly at: readonly string[]
  readonly atKey: boolean
  readonly message: string
}

interface AjvError {
  readonly keyword: string
  readonly instancePath: string
  readonly params: Record<string, unknown>
  readonly message?: string
  readonly propertyName?: string
  readonly parentSchema?: { readonly properties?: Record<string, unknown> }
}
type Validator = ((data: unknown) => boolean) & { errors?: readonly AjvError[] | null }

interface PropertySchema {
  readonly minimum?: number
  readonly enum?: readonly unknown[]
}

const SCHEMA_URL = new URL('../../../spec/registry.schema.json', import.meta.url)
let compiled: { validate: Validator; schema: RegistrySchema } | undefined

interface RegistrySchema {
  readonly $defs: Record<string, { readonly properties?: Record<string, PropertySchema> }>
}

function validator(): { validate: Validator; schema: RegistrySchema } {
  if (compiled) return compiled
  const schema = JSON.parse(readFileSync(SCHEMA_URL, 'utf8')) as RegistrySchema
  const { default: Ajv2020 } = requireHere('ajv/dist/2020') as { default: new (options: object) => { compile(s: unknown): Validator } }
  // verbose: each error carries its schema, so an unknown key can be matched against the known ones.
  const ajv = new Ajv2020({ allErrors: true, verbose: true, strict: false, logger: false })
  compiled = { validate: ajv.compile(schema), schema }
  return compiled
}

const show = (value: unknown): string => (value === null || value === undefined ? 'nothing' : JSON.stringify(value))

function valueAt(root: unknown, at: readonly string[]): unknown {
  let current = root
  for (const token of at) {
    if (current === null || typeof current !== 'object') return undefined
    current = (current as Record<string, unknown>)[token]
  }
  return current
}

function pointer(instancePath: string): string[] {
  return instancePath === ''
    ? []
    : instancePath
        .split('/')
        .slice(1)
        .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'))
}

/** `pool 'email'`, `pool 'email' tracing`, `workflow 'a.b'`, `the registry`. */
function mapLabel(at: readonly string[]): string {
  if (at.length === 0) return 'the registry'
  if (at[0] === 'pools' && at.length >= 2) return `pool '${at[1]}'${at[2] === 'tracing' ? ' tracing' : ''}`
  if (at[0] === 'workflows' && at.length >= 2) return `workflow '${at[1]}'`
  return `'${at[0]}'`
}

/** `pool 'email' timeout`, `pool 'email' tracing.sampleRate`, `workflow 'a.b' input`, `version`. */
function fieldLabel(at: readonly string[]): string {
  if (at[0] === 'pools' && at[2] === 'tracing' && at.length >= 4) return `pool '${at[1]}' tracing.${at[3]}`
  if ((at[0] === 'pools' || at[0] === 'workflows') && at.length >= 3) return `${mapLabel(at)} ${at[2]}`
  return at[0] ?? ''
}

/** The message for a value the schema refused, by what the field is. */
function wording(at: readonly string[], value: unknown, schema: RegistrySchema, ajvMessage: string): string {
  const field = at[0] === 'pools' && at[2] === 'tracing' ? `tracing.${at[3] ?? ''}` : (at[2] ?? at[0] ?? '')
  const label = fieldLabel(at)
  const got = show(value)
  const def = at[0] === 'workflows' ? 'workflow' : field.startsWith('tracing.') ? 'tracing' : 'pool'
  const property = schema.$defs[def]?.properties?.[field.replace('tracing.', '')]
  if (at.length === 0) return `the registry must be a map, got ${got}`
  if (at.length === 1) {
    if (at[0] === 'version') return `version: must be 1, got ${got}`
    if (at[0] === 'shared') return `shared: must be a list of folders, got ${got}`
    if (at[0] === 'pools' || at[0] === 'workflows') return `'${at[0]}' must be a map, got ${got}`
    return `${at[0]}: ${ajvMessage}, got ${got}`
  }
  if (at[0] === 'shared') return 'shared: each entry must be a folder path'
  if (at.length === 2 || (at.length === 3 && field === 'tracing.')) return `${mapLabel(at)} must be a map, got ${got}`
  switch (field) {
    case 'concurrency':
    case 'processes':
    case 'retries':
    case 'maxQueued':
      return `${label}: must be an integer ≥ ${property?.minimum ?? 0}, got ${got}`
    case 'timeout':
      return `${label}: ${got} is not a duration (use 250ms, 30s, 2m or 1h)`
    case 'memory':
      return `${label}: ${got} is not a size (use 256mb or 1gb)`
    case 'maxOutput':
      return `${label}: ${got} is not a size (use 256kb, 1mb or 8mb)`
    case 'runtime':
    case 'tracing.capture':
      return `${label}: must be one of ${(property?.enum ?? []).join(', ')}, got ${got}`
    case 'redis':
      return `${label}: must be a redis:// or rediss:// URL, got ${got}`
    case 'user':
      return `${label}: must be a user name or a numeric uid, got ${got}`
    case 'tracing.sampleRate':
      return `${label}: must be a number from 0 to 1, got ${got}`
    case 'tracing.redact':
      return `${label}: must be a list of key names, got ${got}`
    case 'secrets':
      return `${label}: must be a list of env variable names (like STRIPE_WEBHOOK), got ${got}`
    case 'input':
    case 'output':
      return `${label}: must be a schema file path or an inline JSON Schema, got ${got}`
    case 'graph':
      if (typeof value === 'string' && value.includes('#')) {
        return `${label}: '${value.slice(value.lastIndexOf('#') + 1)}' is not an export name (use path#export)`
      }
      return `${label}: must be a non-empty string, got ${got}`
    case 'pool':
    case 'env':
    case 'prompt':
    case 'description':
    case 'tracing.project':
      return `${label}: must be a non-empty string, got ${got}`
    default:
      return `${label}: ${ajvMessage}, got ${got}`
  }
}

/** Every structure problem of the parsed registry `value`, in Ajv's order; [] when it fits the schema. */
export function structureProblems(value: unknown): StructureProblem[] {
  const { validate, schema } = validator()
  if (validate(value)) return []
  const problems: StructureProblem[] = []
  const seen = new Set<string>()
  const add = (at: readonly string[], atKey: boolean, message: string) => {
    const key = atKey ? `${JSON.stringify(at)} ${message}` : JSON.stringify(at)
    if (seen.has(key)) return
    seen.add(key)
    problems.push({ at, atKey, message })
  }
  for (const error of validate.errors ?? []) {
    // anyOf reports each branch, then itself; propertyNames reports the name's own error too.
    if (error.keyword === 'anyOf' || error.propertyName !== undefined) continue
    let at = pointer(error.instancePath)
    if (error.keyword === 'additionalProperties') {
      const key = String(error.params.additionalProperty)
      const known = Object.keys(error.parentSchema?.properties ?? {})
      const hint = suggest(key, known, 1)[0]
      const what = mapLabel(at)
      add(
        [...at, key],
        true,
        `unknown key '${key}' in ${what}${hint ? ` (did you mean '${hint}'?)` : ` (expected one of: ${known.join(', ')})`}`,
      )
    } else if (error.keyword === 'required') {
      const missing = String(error.params.missingProperty)
      if (at.length === 0) add([missing], false, missing === 'version' ? "missing 'version' (use version: 1)" : `missing '${missing}'`)
      else add(at, true, `${mapLabel(at)} is missing '${missing}'`)
    } else if (error.keyword === 'propertyNames') {
      const name = String(error.params.propertyName)
      const rule = at[0] === 'pools' ? "words joined by '-'" : "words joined by '.' or '-'"
      add(
        [...at, name],
        true,
        `invalid ${at[0] === 'pools' ? 'pool' : 'workflow'} name '${name}': use lowercase letters and digits, ${rule}`,
      )
    } else {
      // A list's item is reported as the list (tracing.redact), shared's items one by one.
      if (at[0] === 'pools' && at[2] === 'tracing' && at[3] === 'redact') at = at.slice(0, 4)
      if (at[0] === 'pools' && at[2] === 'secrets') at = at.slice(0, 3)
      add(at, false, wording(at, valueAt(value, at), schema, error.message ?? 'is invalid'))
    }
  }
  return problems
}
