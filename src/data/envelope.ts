// The run envelope: what travels on the broker (DESIGN §2.4).
// The gateway creates and signs it after route(); the worker verifies it before
// running anything, so a job put straight onto a queue without going through the
// routing contract is refused. Its shape is spec/envelope.schema.json (Ajv, compiled
// once); by hand only what a schema cannot state. spec/vectors/ holds the cases every
// language tests (test/data/envelope.test.ts, python/tests/test_vectors.py).
// Signatures are Ed25519 (envelope-keys.ts): the gateway signs, a worker only verifies.
import { sign, verify } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'

import { SwitchyardError, canonicalDigest, canonicalJson } from '../control/index.js'
import type { RoutePlan } from '../control/index.js'
import { VERIFY_KEYS_ENV, type SigningKey, type VerifyKeys } from './envelope-keys.js'

export interface TraceCarrier {
  readonly traceparent: string
  readonly tracestate: string
  readonly baggage: string
}

export interface Envelope {
  readonly v: 1
  readonly runId: string
  readonly workflow: string
  readonly pool: string
  readonly graph: string
  readonly input: unknown
  readonly registry: string
  /** ISO 8601. */
  readonly deadline: string
  readonly attempt: number
  readonly maxAttempts: number
  readonly trace: TraceCarrier
  readonly idempotencyKey: string | null
  /**
   * `ed25519:<key id>:<signature>`: the Ed25519 signature (base64url, 86 characters) over
   * the canonical envelope without `sig`, and the 16-hex id of the key that made it;
   * '' when unsigned.
   */
  readonly sig: string
}

export interface CreateEnvelopeOptions {
  /** Unique run id: letters, digits, `_` and `-` (BullMQ job ids may not contain `:`). */
  readonly runId: string
  readonly trace: TraceCarrier
  readonly idempotencyKey: string | null
}

const FIELDS = [
  'v',
  'runId',
  'workflow',
  'pool',
  'graph',
  'input',
  'registry',
  'deadline',
  'attempt',
  'maxAttempts',
  'trace',
  'idempotencyKey',
  'sig',
] as const
const TRACE_FIELDS = ['traceparent', 'tracestate', 'baggage'] as const

const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/
const SIG = /^ed25519:([0-9a-f]{16}):([A-Za-z0-9_-]{86})$/

/**
 * Build the envelope for a routed run: attempt 1, maxAttempts from the plan's retry
 * policy, signed when a signing key is given (else `sig` is '').
 * @example createEnvelope(route(registry, { workflow, input }), { runId, trace, idempotencyKey: null }, signingKey)
 */
export function createEnvelope(plan: RoutePlan, opts: CreateEnvelopeOptions, signingKey: SigningKey | null): Envelope {
  const unsigned: Envelope = {
    v: 1,
    runId: opts.runId,
    workflow: plan.workflow,
    pool: plan.pool,
    graph: plan.graph,
    input: plan.input,
    registry: plan.registry,
    deadline: plan.deadline,
    attempt: 1,
    maxAttempts: plan.retry.maxAttempts,
    trace: { traceparent: opts.trace.traceparent, tracestate: opts.trace.tracestate, baggage: opts.trace.baggage },
    idempotencyKey: opts.idempotencyKey,
    sig: '',
  }
  return signingKey === null ? unsigned : signEnvelope(unsigned, signingKey)
}

const FIELD_SET: ReadonlySet<string> = new Set(FIELDS)

/**
 * canonicalJson of a well-formed envelope without `sig`, written field by field in
 * the canonical (sorted) order: no copy of the envelope, no key sorting, only the
 * input goes through the generic writer. Null when the envelope is not exactly the
 * known fields with their JSON types (then the generic path decides).
 */
function knownEnvelopeText(e: Envelope): string | null {
  for (const key in e) if (!FIELD_SET.has(key)) return null
  const t = e.trace as Partial<TraceCarrier> | null
  if (
    e.v !== 1 ||
    typeof e.runId !== 'string' ||
    typeof e.workflow !== 'string' ||
    typeof e.pool !== 'string' ||
    typeof e.graph !== 'string' ||
    typeof e.registry !== 'string' ||
    typeof e.deadline !== 'string' ||
    !Number.isFinite(e.attempt) ||
    !Number.isFinite(e.maxAttempts) ||
    (e.idempotencyKey !== null && typeof e.idempotencyKey !== 'string') ||
    e.input === undefined ||
    typeof t !== 'object' ||
    t === null ||
    Object.keys(t).length !== 3 ||
    typeof t.baggage !== 'string' ||
    typeof t.traceparent !== 'string' ||
    typeof t.tracestate !== 'string'
  ) {
    return null
  }
  const str = JSON.stringify
  return (
    `{"attempt":${str(e.attempt)},"deadline":${str(e.deadline)},"graph":${str(e.graph)},` +
    `"idempotencyKey":${str(e.idempotencyKey)},"input":${canonicalJson(e.input, 'envelope.input', 'INVALID_ENVELOPE')},` +
    `"maxAttempts":${str(e.maxAttempts)},"pool":${str(e.pool)},"registry":${str(e.registry)},"runId":${str(e.runId)},` +
    `"trace":{"baggage":${str(t.baggage)},"traceparent":${str(t.traceparent)},"tracestate":${str(t.tracestate)}},` +
    `"v":1,"workflow":${str(e.workflow)}}`
  )
}

/** The canonical JSON of an envelope without `sig`: the exact text the signature covers. */
export function canonicalEnvelope(envelope: Envelope): string {
  const known = knownEnvelopeText(envelope)
  if (known !== null) return known
  const { sig: _sig, ...rest } = envelope
  return canonicalJson(rest, 'envelope', 'INVALID_ENVELOPE')
}

/** A copy of the envelope with `sig` set to the key's Ed25519 signature over canonicalEnvelope. */
export function signEnvelope(envelope: Envelope, key: SigningKey): Envelope {
  const signature = sign(null, Buffer.from(canonicalEnvelope(envelope), 'utf8'), key.privateKey)
  return { ...envelope, sig: `ed25519:${key.id}:${signature.toString('base64url')}` }
}

function fail(message: string): never {
  throw new SwitchyardError('INVALID_ENVELOPE', `invalid envelope: ${message}`)
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'string') return value.length > 40 ? `"${value.slice(0, 40)}…"` : JSON.stringify(value)
  if (typeof value === 'object') return 'an object'
  return `${typeof value} ${String(value)}`
}

// ---- shape: spec/envelope.schema.json, through Ajv ----

interface AjvError {
  readonly keyword: string
  readonly instancePath: string
  readonly params: Readonly<Record<string, unknown>>
}
type ShapeCheck = ((data: unknown) => boolean) & { errors?: readonly AjvError[] | null }

let shapeCheck: ShapeCheck | undefined

/**
 * The envelope schema, compiled once per process. Ajv and the compile cost tens of
 * milliseconds (bench/control-plane prints Ajv's import): a worker pays them at start
 * (prepareEnvelopeCheck), not on its first run; a gateway, which creates
 * envelopes, only when it must tell which of two pools' jobs under one run id it signed
 * (the Redis broker's locate), which is rare.
 */
function envelopeSchema(): ShapeCheck {
  if (shapeCheck) return shapeCheck
  const require = createRequire(import.meta.url)
  const { default: Ajv2020 } = require('ajv/dist/2020') as { default: new (options: object) => { compile(schema: unknown): ShapeCheck } }
  const schema: unknown = JSON.parse(readFileSync(new URL('../../spec/envelope.schema.json', import.meta.url), 'utf8'))
  // allErrors: every problem is seen, so the one reported is the first by field order, as in Python.
  shapeCheck = new Ajv2020({ allErrors: true, strict: true }).compile(schema)
  return shapeCheck
}

/** Compile the envelope schema now, so the first envelope does not wait for it (a worker, at start). */
export function prepareEnvelopeCheck(): void {
  envelopeSchema()
}

/** What each field must be, worded for the error (spec/envelope.schema.json states the rule). */
const RULES: Readonly<Record<string, string>> = {
  runId: "1-128 letters, digits, '_' or '-'",
  workflow: 'a workflow name (lowercase, dot or dash separated)',
  pool: "a pool name (letters, digits, '_', '.', '-')",
  graph: 'a non-empty graph reference',
  registry: 'a registry digest sha256:<64 hex>',
  deadline: 'an ISO 8601 date-time with a time zone',
  attempt: 'an integer from 1 to 1000',
  maxAttempts: 'an integer from 1 to 1000',
  trace: 'an object with traceparent, tracestate and baggage',
  'trace.traceparent': "a W3C traceparent (00-<32 hex>-<16 hex>-<2 hex>) or ''",
  'trace.tracestate': 'a string',
  'trace.baggage': 'a string',
  idempotencyKey: 'null or a string of 1-256 characters',
  sig: "'' or ed25519:<16 hex key id>:<86 base64url characters>",
}

/**
 * The refusal for one schema error, and its rank: the envelope is refused for the
 * problem of lowest rank — not an object, then an unknown field, a missing one, then
 * the first bad value in field order (python/switchyard_worker/envelope.py ranks alike).
 */
function refusal(raw: unknown, error: AjvError): [rank: number, message: string] {
  const path = error.instancePath.split('/').slice(1)
  const [top = '', sub] = path
  // additionalProperties and required name a key of the object at the path.
  const under = path.length === 0 ? '' : `${path.join('.')}.`
  const field = sub === undefined ? top : `${top}.${sub}`
  const parent = path.length === 0 ? raw : (raw as Record<string, unknown>)[top]
  const order = (name: string, known: readonly string[]) => (known as readonly string[]).indexOf(name)
  if (path.length === 0 && error.keyword === 'type') return [0, `expected a JSON object, got ${describe(raw)}`]
  if (error.keyword === 'additionalProperties') {
    const key = String(error.params.additionalProperty)
    const base = path.length === 0 ? 1000 : 3000 + order(top, FIELDS) * 100
    return [base + Object.keys(parent as object).indexOf(key), `unknown field ${under}${key}`]
  }
  if (error.keyword === 'required') {
    const key = String(error.params.missingProperty)
    if (path.length === 0) return [2000 + order(key, FIELDS), `missing field ${key}`]
    return [3000 + order(top, FIELDS) * 100 + 20 + order(key, TRACE_FIELDS), `missing field ${under}${key}`]
  }
  const value = sub === undefined ? parent : (parent as Record<string, unknown>)[sub]
  const rank = 3000 + order(top, FIELDS) * 100 + (sub === undefined ? 0 : 40 + order(sub, TRACE_FIELDS))
  if (field === 'v') return [rank, `unsupported version v=${describe(value)} (this worker reads v=1)`]
  return [rank, `${field} must be ${RULES[field] ?? 'valid'}, got ${describe(value)}`]
}

/**
 * Check the shape of an envelope (no signature check): spec/envelope.schema.json,
 * then by hand what the schema cannot state — a deadline that is a real date, and
 * an attempt no later than maxAttempts. Throws INVALID_ENVELOPE naming the first bad field.
 */
function checkShape(raw: unknown): Envelope {
  const check = envelopeSchema()
  if (!check(raw)) {
    let first: [number, string] = [Infinity, 'does not fit spec/envelope.schema.json']
    for (const error of check.errors ?? []) {
      const candidate = refusal(raw, error)
      if (candidate[0] < first[0]) first = candidate
    }
    fail(first[1])
  }
  const envelope = raw as Envelope
  if (Number.isNaN(Date.parse(envelope.deadline))) fail(`deadline is not a real date, got ${describe(envelope.deadline)}`)
  if (envelope.attempt > envelope.maxAttempts) fail(`attempt ${envelope.attempt} is greater than maxAttempts ${envelope.maxAttempts}`)
  return envelope
}

/**
 * Check an envelope as it came off the broker and return it typed.
 * With verify keys, the signature must be present, made by one of them, and match;
 * without (`null`), signatures are not checked.
 * Throws SwitchyardError INVALID_ENVELOPE with a message naming the field or problem.
 * Deadline-past and pool checks are the worker's: see envelopeDeadlineMs().
 */
export function verifyEnvelope(raw: unknown, keys: VerifyKeys | null): Envelope {
  const envelope = checkShape(raw)
  if (keys === null) return envelope
  const match = SIG.exec(envelope.sig)
  if (!match) fail(`missing signature (sig is empty and this worker verifies signatures: ${VERIFY_KEYS_ENV} is set)`)
  const [, id = '', signature = ''] = match
  const key = keys.get(id)
  if (!key) fail(`signed by key ${id}, which is not one of this worker's verify keys (${VERIFY_KEYS_ENV} lists ${keys.ids.join(', ')})`)
  if (!verify(null, Buffer.from(canonicalEnvelope(envelope), 'utf8'), key, Buffer.from(signature, 'base64url'))) {
    fail(`signature does not match (the envelope was altered, or not signed by key ${id})`)
  }
  return envelope
}

/** Parse envelope JSON text and verify it (see verifyEnvelope). */
export function parseEnvelope(json: string, keys: VerifyKeys | null): Envelope {
  let raw: unknown
  try {
    raw = JSON.parse(json)
  } catch (error) {
    throw new SwitchyardError('INVALID_ENVELOPE', `invalid envelope: not JSON (${(error as Error).message})`, {
      cause: error,
    })
  }
  return verifyEnvelope(raw, keys)
}

/** The envelope's deadline, epoch milliseconds. */
export function envelopeDeadlineMs(envelope: Envelope): number {
  return Date.parse(envelope.deadline)
}

/** The W3C trace id carried by the envelope, or null when it has no traceparent. */
export function envelopeTraceId(envelope: Envelope): string | null {
  return TRACEPARENT.exec(envelope.trace.traceparent)?.[1] ?? null
}

/**
 * What an idempotency key is bound to: the workflow and its input. The same key with
 * the same fingerprint dedupes; with another fingerprint it is IDEMPOTENCY_CONFLICT.
 */
export function idempotencyFingerprint(envelope: Envelope): string {
  return canonicalDigest({ workflow: envelope.workflow, input: envelope.input }, 'INVALID_ENVELOPE')
}
