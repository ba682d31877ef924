// The run envelope: what travels on the broker (DESIGN §2.4).
// The gateway creates and signs it after route(); the worker verifies it before
// running anything, so a job put straight onto a queue without going through the
// routing contract is refused. spec/envelope.schema.json and spec/vectors/ describe
// the same rules for other languages; test/data/envelope.test.ts keeps them in step.
// Signatures are Ed25519 (envelope-keys.ts): the gateway signs, a worker only verifies.
import { sign, verify } from 'node:crypto'

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

const RUN_ID = /^[A-Za-z0-9_-]{1,128}$/
const WORKFLOW = /^[a-z][a-z0-9]*([.-][a-z0-9]+)*$/
const POOL = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/
const DIGEST = /^sha256:[0-9a-f]{64}$/
const DEADLINE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/
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

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'string') return value.length > 40 ? `"${value.slice(0, 40)}…"` : JSON.stringify(value)
  if (typeof value === 'object') return 'an object'
  return `${typeof value} ${String(value)}`
}

function text(record: Record<string, unknown>, field: string, pattern: RegExp, rule: string): string {
  const value = record[field]
  if (typeof value !== 'string' || !pattern.test(value)) fail(`${field} must be ${rule}, got ${describe(value)}`)
  return value
}

function count(record: Record<string, unknown>, field: string): number {
  const value = record[field]
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 1000) {
    fail(`${field} must be an integer from 1 to 1000, got ${describe(value)}`)
  }
  return value
}

function checkTrace(value: unknown): TraceCarrier {
  if (!isRecord(value)) fail(`trace must be an object with traceparent, tracestate and baggage, got ${describe(value)}`)
  for (const key of Object.keys(value)) {
    if (!(TRACE_FIELDS as readonly string[]).includes(key)) fail(`unknown field trace.${key}`)
  }
  const traceparent = value.traceparent
  if (typeof traceparent !== 'string' || (traceparent !== '' && !TRACEPARENT.test(traceparent))) {
    fail(`trace.traceparent must be a W3C traceparent (00-<32 hex>-<16 hex>-<2 hex>) or '', got ${describe(traceparent)}`)
  }
  for (const key of ['tracestate', 'baggage'] as const) {
    if (typeof value[key] !== 'string') fail(`trace.${key} must be a string, got ${describe(value[key])}`)
  }
  return value as unknown as TraceCarrier
}

/** Check the shape of an envelope (no signature check). Throws INVALID_ENVELOPE naming the first bad field. */
function checkShape(raw: unknown): Envelope {
  if (!isRecord(raw)) fail(`expected a JSON object, got ${describe(raw)}`)
  for (const key of Object.keys(raw)) {
    if (!(FIELDS as readonly string[]).includes(key)) fail(`unknown field ${key}`)
  }
  for (const key of FIELDS) {
    if (!(key in raw) || raw[key] === undefined) fail(`missing field ${key}`)
  }
  if (raw.v !== 1) fail(`unsupported version v=${describe(raw.v)} (this worker reads v=1)`)
  text(raw, 'runId', RUN_ID, "1-128 letters, digits, '_' or '-'")
  text(raw, 'workflow', WORKFLOW, 'a workflow name (lowercase, dot or dash separated)')
  text(raw, 'pool', POOL, "a pool name (letters, digits, '_', '.', '-')")
  text(raw, 'graph', /^.{1,1024}$/s, 'a non-empty graph reference')
  text(raw, 'registry', DIGEST, 'a registry digest sha256:<64 hex>')
  const deadline = text(raw, 'deadline', DEADLINE, 'an ISO 8601 date-time with a time zone')
  if (Number.isNaN(Date.parse(deadline))) fail(`deadline is not a real date, got ${describe(deadline)}`)
  const attempt = count(raw, 'attempt')
  const maxAttempts = count(raw, 'maxAttempts')
  if (attempt > maxAttempts) fail(`attempt ${attempt} is greater than maxAttempts ${maxAttempts}`)
  checkTrace(raw.trace)
  const key = raw.idempotencyKey
  if (key !== null && (typeof key !== 'string' || key.length < 1 || key.length > 256)) {
    fail(`idempotencyKey must be null or a string of 1-256 characters, got ${describe(key)}`)
  }
  const sig = raw.sig
  if (typeof sig !== 'string' || (sig !== '' && !SIG.test(sig))) {
    fail(`sig must be '' or ed25519:<16 hex key id>:<86 base64url characters>, got ${describe(sig)}`)
  }
  return raw as unknown as Envelope
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
