// A small JSON Schema (2020-12) → TypeScript type converter for `switchyard
// codegen`: object (properties, required, additionalProperties), array (items,
// prefixItems), enum, const, anyOf/oneOf (union), allOf (intersection), type
// lists, local $ref ('#/$defs/…'), and primitives. Anything else is `unknown`,
// which is always safe.
import type { JsonSchema } from '../contract/index.js'

/** Whether the type describes what a caller sends (defaults make fields optional) or what comes back. */
export type Direction = 'input' | 'output'

type Schema = { readonly [key: string]: unknown }

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/

function isSchema(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function key(name: string): string {
  return IDENTIFIER.test(name) ? name : JSON.stringify(name)
}

function literal(value: unknown): string {
  if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) return JSON.stringify(value)
  if (Array.isArray(value)) return `readonly [${value.map(literal).join(', ')}]`
  if (isSchema(value))
    return `{ ${Object.entries(value)
      .map(([k, v]) => `${key(k)}: ${literal(v)}`)
      .join('; ')} }`
  return 'unknown'
}

function union(types: readonly string[]): string {
  const unique = [...new Set(types)]
  if (unique.length === 0) return 'never'
  if (unique.includes('unknown')) return 'unknown'
  return unique.length === 1 ? (unique[0] ?? 'never') : unique.map((t) => (t.includes(' & ') ? `(${t})` : t)).join(' | ')
}

function comment(text: unknown, indent: string): string {
  return typeof text === 'string' && text.trim() ? `${indent}/** ${text.trim().replace(/\*\//g, '*\\/').replace(/\n/g, ' ')} */\n` : ''
}

/** The TypeScript type of `schema`, laid out at `indent`. */
export function schemaToType(schema: JsonSchema, direction: Direction, indent = ''): string {
  const root = schema
  const resolving = new Set<string>()

  const convert = (node: unknown, pad: string): string => {
    if (node === true || node === undefined) return 'unknown'
    if (node === false) return 'never'
    if (!isSchema(node)) return 'unknown'
    if (typeof node.$ref === 'string') {
      const ref = node.$ref
      const target = resolve(ref)
      if (target === undefined || resolving.has(ref)) return 'unknown'
      resolving.add(ref)
      try {
        return convert(target, pad)
      } finally {
        resolving.delete(ref)
      }
    }
    if ('const' in node) return literal(node.const)
    if (Array.isArray(node.enum)) return union(node.enum.map(literal))
    if (Array.isArray(node.anyOf)) return withBase(node, union(node.anyOf.map((s) => convert(s, pad))), pad)
    if (Array.isArray(node.oneOf)) return withBase(node, union(node.oneOf.map((s) => convert(s, pad))), pad)
    if (Array.isArray(node.allOf)) {
      const parts = node.allOf.map((s) => convert(s, pad)).filter((t) => t !== 'unknown')
      const base = byType(node, pad)
      const all = base === 'unknown' ? parts : [base, ...parts]
      return all.length ? all.map((t) => (t.includes(' | ') ? `(${t})` : t)).join(' & ') : 'unknown'
    }
    return byType(node, pad)
  }

  /** A schema with both a type and anyOf/oneOf: the union, narrowed by the type. */
  const withBase = (node: Schema, alternatives: string, pad: string): string => {
    const base = byType(node, pad)
    return base === 'unknown' ? alternatives : `${base} & (${alternatives})`
  }

  const byType = (node: Schema, pad: string): string => {
    const types = Array.isArray(node.type) ? node.type : typeof node.type === 'string' ? [node.type] : null
    if (types) return union(types.map((t) => single(String(t), node, pad)))
    if (isSchema(node.properties) || 'additionalProperties' in node || Array.isArray(node.required)) return object(node, pad)
    if ('items' in node || 'prefixItems' in node) return array(node, pad)
    return 'unknown'
  }

  const single = (type: string, node: Schema, pad: string): string => {
    switch (type) {
      case 'string':
        return 'string'
      case 'number':
      case 'integer':
        return 'number'
      case 'boolean':
        return 'boolean'
      case 'null':
        return 'null'
      case 'array':
        return array(node, pad)
      case 'object':
        return object(node, pad)
      default:
        return 'unknown'
    }
  }

  const array = (node: Schema, pad: string): string => {
    const rest = node.items === undefined || node.items === true ? 'unknown' : convert(node.items, pad)
    if (Array.isArray(node.prefixItems)) {
      const head = node.prefixItems.map((s) => convert(s, pad))
      return node.items === false ? `[${head.join(', ')}]` : `[${[...head, `...${wrap(rest)}[]`].join(', ')}]`
    }
    return `${wrap(rest)}[]`
  }

  const object = (node: Schema, pad: string): string => {
    const inner = `${pad}  `
    const required = new Set(Array.isArray(node.required) ? node.required.map(String) : [])
    const properties = isSchema(node.properties) ? node.properties : {}
    const lines: string[] = []
    const valueTypes: string[] = []
    for (const [name, property] of Object.entries(properties)) {
      const type = convert(property, inner)
      const hasDefault = isSchema(property) && 'default' in property
      const optional = !required.has(name) || (direction === 'input' && hasDefault)
      valueTypes.push(optional ? union([type, 'undefined']) : type)
      lines.push(
        `${comment(isSchema(property) ? property.description : undefined, inner)}${inner}${key(name)}${optional ? '?' : ''}: ${type}`,
      )
    }
    for (const name of required) {
      if (!(name in properties)) lines.push(`${inner}${key(name)}: unknown`)
    }
    const extra = node.additionalProperties
    if (extra !== false) {
      const type = extra === undefined || extra === true ? 'unknown' : union([convert(extra, inner), ...valueTypes])
      lines.push(`${inner}[key: string]: ${type}`)
    }
    return lines.length ? `{\n${lines.join('\n')}\n${pad}}` : 'Record<string, never>'
  }

  const resolve = (ref: string): unknown => {
    if (!ref.startsWith('#')) return undefined
    let current: unknown = root
    for (const token of ref.slice(1).split('/').slice(1)) {
      const name = decodeURIComponent(token).replace(/~1/g, '/').replace(/~0/g, '~')
      current = isSchema(current) ? current[name] : undefined
    }
    return current
  }

  return convert(schema, indent)
}

function wrap(type: string): string {
  return /^[\w.]+$/.test(type) || type.startsWith('{') || type.startsWith('[') ? type : `(${type})`
}
