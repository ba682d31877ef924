// Canonical JSON: the exact bytes an envelope signature covers, and the form behind
// the registry digest (so key order and formatting never change either). Other
// languages (the Python worker) must produce the same bytes, so the rules are spelled
// out in spec/vectors/README.md and kept deliberately small:
//   - object keys sorted by Unicode code point (not UTF-16 code unit: they differ
//     above U+FFFF, and Python sorts by code point);
//   - no insignificant whitespace;
//   - strings and numbers exactly as JSON.stringify prints them;
//   - object members whose value is undefined are left out (as JSON.stringify does).
import type * as Crypto from 'node:crypto'

import { SwitchyardError, type ErrorCode } from '../contract/index.js'
import { builtin } from './node-builtins.js'

/** Compare two strings by Unicode code point. */
export function compareCodePoints(a: string, b: string): number {
  const left = a[Symbol.iterator]()
  const right = b[Symbol.iterator]()
  for (;;) {
    const x = left.next()
    const y = right.next()
    if (x.done) return y.done ? 0 : -1
    if (y.done) return 1
    const cx = x.value.codePointAt(0) ?? 0
    const cy = y.value.codePointAt(0) ?? 0
    if (cx !== cy) return cx - cy
  }
}

/** True when every character is in the Basic Multilingual Plane (the common case: plain sort is then exact). */
function bmpOnly(keys: readonly string[]): boolean {
  for (const key of keys) {
    for (let i = 0; i < key.length; i++) {
      const unit = key.charCodeAt(i)
      if (unit >= 0xd800 && unit <= 0xdfff) return false
    }
  }
  return true
}

function write(value: unknown, path: string, out: string[], code: ErrorCode): void {
  if (value === null) {
    out.push('null')
    return
  }
  switch (typeof value) {
    case 'string':
    case 'boolean':
      out.push(JSON.stringify(value))
      return
    case 'number':
      if (!Number.isFinite(value)) {
        throw new SwitchyardError(code, `${path} is ${value}, which JSON cannot represent`)
      }
      out.push(JSON.stringify(value))
      return
    case 'object':
      break
    default:
      throw new SwitchyardError(code, `${path} is a ${typeof value}, which JSON cannot represent`)
  }
  if (Array.isArray(value)) {
    out.push('[')
    value.forEach((item: unknown, index) => {
      if (index > 0) out.push(',')
      // JSON.stringify writes null for undefined array items; so do we.
      write(item === undefined ? null : item, `${path}[${index}]`, out, code)
    })
    out.push(']')
    return
  }
  const record = value as Record<string, unknown>
  const keys = Object.keys(record).filter((key) => record[key] !== undefined)
  keys.sort(bmpOnly(keys) ? undefined : compareCodePoints)
  out.push('{')
  keys.forEach((key, index) => {
    if (index > 0) out.push(',')
    out.push(JSON.stringify(key), ':')
    write(record[key], `${path}.${key}`, out, code)
  })
  out.push('}')
}

/**
 * The canonical JSON text of a JSON value.
 * Throws SwitchyardError `code` for values JSON cannot carry (NaN, bigint, functions…).
 * @example canonicalJson({ b: 1, a: [true, null] }) // '{"a":[true,null],"b":1}'
 */
export function canonicalJson(value: unknown, path = 'value', code: ErrorCode = 'REGISTRY_INVALID'): string {
  const out: string[] = []
  write(value, path, out, code)
  return out.join('')
}

/** `sha256:<hex>` of a value's canonical JSON (UTF-8). */
export function canonicalDigest(value: unknown, code: ErrorCode = 'REGISTRY_INVALID'): string {
  return `sha256:${builtin<typeof Crypto>('node:crypto')
    .createHash('sha256')
    .update(canonicalJson(value, 'value', code), 'utf8')
    .digest('hex')}`
}
