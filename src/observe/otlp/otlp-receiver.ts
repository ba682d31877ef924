// POST /v1/traces: the OTLP/HTTP trace receiver of embedded mode. Accepts what the
// OpenTelemetry exporters send: application/x-protobuf or application/json,
// optionally gzip- or deflate-encoded, and answers in the same encoding.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { gunzip, inflate } from 'node:zlib'
import getRawBody from 'raw-body'
import { promisify } from 'node:util'
import { ATTR, SwitchyardError } from '../../control/index.js'
import { decodeOtlpJson } from './otlp-json.js'
import { decodeOtlpProtobuf } from './otlp-protobuf.js'
import { toStoredSpans } from './otlp-request.js'
import type { SpanSender, StoredSpan, TraceStore } from '../store/index.js'

/** Largest accepted export (compressed or not). @default 33554432 (32 MiB) */
export const OTLP_BODY_LIMIT = 32 * 1024 * 1024

const gunzipAsync = promisify(gunzip)
const inflateAsync = promisify(inflate)

export interface ReceiveOptions {
  /** @default OTLP_BODY_LIMIT */
  readonly limitBytes?: number
  /**
   * Whether the sender may write spans filed under `project` (its credential's own
   * project, say). One span it may not write refuses the whole export: nothing is stored.
   * @default any project
   */
  readonly canWrite?: (project: string) => boolean
  /**
   * Whether the sender may write a span that says it belongs to this workflow and pool
   * (`switchyard.workflow`, `switchyard.pool` of the span or its resource): the run list
   * and the trace readers' scopes go by those claims, so a credential that may write
   * only some pools' spans must not describe another pool's runs. One span it may not
   * write refuses the whole export.
   * @default any claim
   */
  readonly canClaim?: (claim: SpanClaim) => boolean
  /**
   * Who sends this export, stamped on every span it stores (StoredSpan.sender), unless
   * the sender is trusted with every trace: a trace's runs take in a sender's spans only
   * when the gateway's spans name it (trace-members.ts).
   * @default trusted: no stamp
   */
  readonly sender?: SpanSender
}

/** What a span says about the run it belongs to; absent where it says nothing. */
export interface SpanClaim {
  readonly workflow?: string
  readonly pool?: string
}

/** Read, decode and store one OTLP export; throws SwitchyardError (400, 403, 413, 415) on a bad request. */
export async function receiveOtlp(
  store: TraceStore,
  req: IncomingMessage,
  res: ServerResponse,
  options: ReceiveOptions = {},
): Promise<number> {
  const limitBytes = options.limitBytes ?? OTLP_BODY_LIMIT
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? ''
  const json = type === 'application/json'
  if (!json && type !== 'application/x-protobuf' && type !== 'application/protobuf') {
    throw new SwitchyardError(
      'UNSUPPORTED_MEDIA_TYPE',
      `OTLP/HTTP takes application/x-protobuf or application/json; got ${type ? `'${type}'` : 'no content-type'}`,
    )
  }
  const body = await decode(await readBody(req, limitBytes), req.headers['content-encoding'], limitBytes)
  const spans = toStoredSpans(json ? decodeOtlpJson(body.toString('utf8')) : decodeOtlpProtobuf(body))
  if (options.canWrite) {
    const refused = new Set(spans.map((span) => store.fileUnder(span.project)).filter((project) => !options.canWrite!(project)))
    if (refused.size > 0) {
      const names = [...refused].slice(0, 3).map((p) => `'${p}'`)
      throw new SwitchyardError(
        'FORBIDDEN',
        `this credential may not write spans into project${refused.size === 1 ? '' : 's'} ${names.join(', ')}${refused.size > 3 ? ', …' : ''}: nothing of this export was stored`,
      )
    }
  }
  if (options.canClaim) {
    const refused = spans
      .map(claimOf)
      .find((claim) => (claim.workflow !== undefined || claim.pool !== undefined) && !options.canClaim!(claim))
    if (refused !== undefined) {
      const what = [refused.workflow && `workflow '${refused.workflow}'`, refused.pool && `pool '${refused.pool}'`]
        .filter(Boolean)
        .join(' and ')
      throw new SwitchyardError('FORBIDDEN', `this credential may not write spans of ${what}: nothing of this export was stored`)
    }
  }
  const sender = options.sender
  await store.add(sender === undefined ? spans : spans.map((span) => ({ ...span, sender })))
  // An empty ExportTraceServiceResponse: full success.
  if (json) res.writeHead(200, { 'content-type': 'application/json', 'content-length': 2 }).end('{}')
  else res.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': 0 }).end()
  return spans.length
}

function claimOf(span: StoredSpan): SpanClaim {
  const workflow = span.attributes[ATTR.workflow]
  const pool = span.attributes[ATTR.pool] ?? span.resource[ATTR.pool]
  // A claim of any other type is still a claim: refused unless the sender may make every claim.
  return {
    ...(workflow !== undefined && workflow !== null ? { workflow: String(workflow) } : {}),
    ...(pool !== undefined && pool !== null ? { pool: String(pool) } : {}),
  }
}

/**
 * The body, up to `limitBytes` (raw-body, as the gateway's JSON bodies). Past the limit it
 * throws PAYLOAD_TOO_LARGE and leaves the request paused, not destroyed (that would reset
 * the connection before the 413 is sent): the gateway reads the rest and discards it.
 */
async function readBody(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
  try {
    return await getRawBody(req, { limit: limitBytes, length: req.headers['content-length'] })
  } catch (error) {
    if ((error as { type?: unknown }).type === 'entity.too.large') throw tooLarge(limitBytes)
    throw new SwitchyardError('BAD_REQUEST', `the export could not be read: ${(error as Error).message}`, { cause: error })
  }
}

async function decode(body: Buffer, encoding: string | undefined, limitBytes: number): Promise<Buffer> {
  const name = (encoding ?? 'identity').trim().toLowerCase()
  if (name === 'identity' || name === '') return body
  const inflater = name === 'gzip' || name === 'x-gzip' ? gunzipAsync : name === 'deflate' ? inflateAsync : undefined
  if (inflater === undefined)
    throw new SwitchyardError('UNSUPPORTED_MEDIA_TYPE', `content-encoding '${name}' is not supported (use gzip or none)`)
  try {
    return await inflater(body, { maxOutputLength: limitBytes })
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(limitBytes)
    throw new SwitchyardError('BAD_REQUEST', `the ${name} body could not be decompressed: ${(error as Error).message}`)
  }
}

function tooLarge(limitBytes: number): SwitchyardError {
  return new SwitchyardError('PAYLOAD_TOO_LARGE', `the OTLP export is larger than the limit of ${limitBytes} bytes`)
}
