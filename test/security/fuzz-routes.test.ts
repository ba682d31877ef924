// Issue 12.1, the class and not the case: property-based fuzzing (fast-check) of every
// route of the gateway. Any byte in the method, path, query and header values, any
// body, with a valid token, a garbage one or none: every request gets an answer, never
// a 500 (no handler error escapes as INTERNAL, nothing is logged as a failure of ours),
// never a 5xx for bad input (a 5xx only as a run's own outcome: its pool has no worker,
// its graph failed or ran out of time), the process never sees an uncaught exception,
// and the heap does not grow with the requests. Requests go over raw sockets: an HTTP
// client would refuse to send most of these. A failure prints fast-check's seed and the
// shrunk request, so it replays.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { after, before, test } from 'node:test'
import fc from 'fast-check'
import { ingestToken, newIngestSecret } from '../../src/gateway/index.js'
import { startFixture, type Fixture } from '../gateway/fixture.js'

const TOKEN = 'fuzz-admin-token'
const secret = newIngestSecret()
const failures: string[] = []
const uncaught: unknown[] = []
const onUncaught = (error: unknown) => uncaught.push(error)

let fx: Fixture
let traceDir: string
before(async () => {
  process.on('uncaughtException', onUncaught)
  process.on('unhandledRejection', onUncaught)
  traceDir = mkdtempSync(join(tmpdir(), 'switchyard-fuzz-'))
  fx = await startFixture({
    tokens: [TOKEN],
    ingestSecret: secret,
    traceDir,
    bodyLimitBytes: 64 * 1024,
    // Every 500 is logged as 'request failed': none may be.
    log: { error: (msg, fields) => failures.push(`${msg} ${JSON.stringify(fields)}`) },
  })
})
after(async () => {
  await fx.close()
  rmSync(traceDir, { recursive: true, force: true })
  process.off('uncaughtException', onUncaught)
  process.off('unhandledRejection', onUncaught)
})

/** Every route, its parameters as `{}`. */
const ROUTES: readonly (readonly [string, string])[] = [
  ['POST', '/v1/workflows/{}/run'],
  ['GET', '/v1/runs'],
  ['GET', '/v1/runs/{}'],
  ['POST', '/v1/runs/{}/cancel'],
  ['GET', '/v1/pools'],
  ['GET', '/v1/workflows'],
  ['GET', '/v1/workflows/{}'],
  ['GET', '/healthz'],
  ['GET', '/readyz'],
  ['GET', '/metrics'],
  ['POST', '/v1/traces'],
  ['GET', '/v1/traces'],
  ['GET', '/v1/traces/{}'],
  ['GET', '/'],
  ['GET', '/console/{}'],
]

const bytes = (max: number) => fc.uint8Array({ maxLength: max }).map((a) => Buffer.from(a))
const percent = (b: Buffer) => [...b].map((x) => `%${x.toString(16).padStart(2, '0')}`).join('')
/** A path parameter or query part: real names, printable text, any byte percent-encoded, or any byte raw. */
const part = fc
  .oneof(
    fc.constantFrom('echo.say', 'echo.fail', 'echo.slow', 'held.wait', 'quiet.say', '0123456789abcdef0123456789abcdef', 'app.js', ''),
    fc.string({ maxLength: 40 }).map((s) => Buffer.from(s)),
    bytes(40).map((b) => Buffer.from(percent(b))),
    bytes(40),
  )
  .map((p) => (typeof p === 'string' ? Buffer.from(p) : p))

const headerValue = fc
  .oneof(
    fc.constantFrom('application/json', 'application/x-protobuf', 'gzip', '1', '0', 'respond-async', 'wait=1', ''),
    fc.constantFrom('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', '00-zz-yy-01', 'a=b,c=d'),
    fc.string({ maxLength: 60 }).map((s) => Buffer.from(s)),
    bytes(60),
  )
  .map((v) => (typeof v === 'string' ? Buffer.from(v) : v))

const HEADER_NAMES = [
  'content-type',
  'content-encoding',
  'traceparent',
  'tracestate',
  'x-switchyard-force-trace',
  'idempotency-key',
  'prefer',
  'accept',
  'origin',
  'access-control-request-method',
  'x-anything',
  'cookie',
]

const auth = fc.oneof(
  fc.constant(`Bearer ${TOKEN}`),
  fc.constant(`Bearer ${ingestToken(secret, 'email')}`),
  fc.constant(null),
  headerValue.map((v) => Buffer.concat([Buffer.from('Bearer '), v])),
)

const body = fc.oneof(
  fc.constant(Buffer.alloc(0)),
  fc.jsonValue({ maxDepth: 4 }).map((v) => Buffer.from(JSON.stringify(v) ?? 'null')),
  fc.record({ text: fc.string(), shout: fc.anything() }).map((v) => Buffer.from(JSON.stringify(v) ?? '{}')),
  fc.constant(Buffer.from('{"resourceSpans":[{"resource":{},"scopeSpans":[{"spans":[{"traceId":"x","name":1}]}]}]}')),
  bytes(2048),
  fc.integer({ min: 1, max: 100 }).map((n) => Buffer.from('['.repeat(n * 10))),
)

const requestArb = fc.record({
  route: fc.constantFrom(...ROUTES),
  method: fc.oneof(
    { arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'HEAD', 'PATCH'), weight: 4 },
    { arbitrary: bytes(8), weight: 1 },
  ),
  // Mostly the route's own method, so that most requests reach its handler.
  useRouteMethod: fc.integer({ min: 0, max: 4 }).map((n) => n > 0),
  param: part,
  query: fc.array(fc.tuple(part, part), { maxLength: 4 }),
  headers: fc.array(fc.tuple(fc.constantFrom(...HEADER_NAMES), headerValue), { maxLength: 4 }),
  auth,
  body,
})

type Fuzzed = typeof requestArb extends fc.Arbitrary<infer T> ? T : never

function encode(r: Fuzzed): { raw: Buffer; path: string; method: string } {
  const [routeMethod, template] = r.route
  const method = r.useRouteMethod ? Buffer.from(routeMethod) : typeof r.method === 'string' ? Buffer.from(r.method) : r.method
  const [before, after] = template.split('{}') as [string, string | undefined]
  const path = Buffer.concat([Buffer.from(before), ...(after === undefined ? [] : [r.param, Buffer.from(after)])])
  const query =
    r.query.length === 0
      ? []
      : [Buffer.from('?'), Buffer.concat(r.query.flatMap(([k, v], i) => [Buffer.from(i ? '&' : ''), k, Buffer.from('='), v]))]
  const lines: Buffer[] = [Buffer.concat([method, Buffer.from(' '), path, ...query, Buffer.from(' HTTP/1.1\r\n')])]
  // A Host the gateway answers (host-check.ts): any other is a 421 before the route is reached.
  lines.push(Buffer.from(`host: ${new URL(fx.url).host}\r\nconnection: close\r\n`))
  if (r.auth !== null) lines.push(Buffer.concat([Buffer.from('authorization: '), Buffer.from(r.auth), Buffer.from('\r\n')]))
  for (const [name, value] of r.headers) lines.push(Buffer.concat([Buffer.from(`${name}: `), value, Buffer.from('\r\n')]))
  lines.push(Buffer.from(`content-length: ${r.body.length}\r\n\r\n`), r.body)
  return { raw: Buffer.concat(lines), path: path.toString('latin1'), method: method.toString('latin1') }
}

/** Send raw bytes; resolve with the status and body of the answer. */
function exchange(raw: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(new URL(fx.url).port), '127.0.0.1')
    const chunks: Buffer[] = []
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error('no answer within 10 s'))
    }, 10_000)
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    socket.on('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
    socket.on('close', () => {
      clearTimeout(timer)
      const text = Buffer.concat(chunks).toString('latin1')
      const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(text)?.[1] ?? NaN)
      if (Number.isNaN(status)) reject(new Error(`not an HTTP answer: ${JSON.stringify(text.slice(0, 200))}`))
      else resolve({ status, body: text.slice(text.indexOf('\r\n\r\n') + 4) })
    })
    socket.end(raw)
  })
}

/** The outcomes of a run that are not the caller's fault, each a 5xx of its own. */
const RUN_OUTCOMES = new Set(['POOL_UNAVAILABLE', 'QUEUE_FULL', 'DEADLINE_EXCEEDED', 'GRAPH_FAILED', 'RUN_FAILED'])

function heapAfterGc(): number {
  setFlagsFromString('--expose-gc')
  ;(runInNewContext('gc') as () => void)()
  return process.memoryUsage().heapUsed
}

void test('any bytes to any route: an answer every time, no 500, no 5xx for bad input, no uncaught error, a bounded heap', async () => {
  const heapBefore = heapAfterGc()
  const statuses = new Map<number, number>()
  await fc.assert(
    fc.asyncProperty(requestArb, async (r) => {
      const { raw, path, method } = encode(r)
      const { status, body: answer } = await exchange(raw)
      statuses.set(status, (statuses.get(status) ?? 0) + 1)
      assert.notEqual(status, 500, `${method} ${path} → 500 ${answer}`)
      if (status >= 500) {
        const code = (/"code":"([A-Z_]+)"/.exec(answer) ?? [])[1] ?? ''
        // /readyz is 503 by design while a pool has no worker (the fixture's `held`).
        const readiness = path === '/readyz' && status === 503
        assert.ok(
          readiness || (method === 'POST' && /^\/v1\/workflows\/[^/]+\/run$/.test(path) && RUN_OUTCOMES.has(code)),
          `${method} ${path} → ${status} ${answer}`,
        )
      }
    }),
    { numRuns: 1500, includeErrorInReport: true },
  )
  // The fuzz reaches the handlers, not only Node's HTTP parser (which answers 400 to raw bytes itself).
  const beyond400 = [...statuses].filter(([status]) => status !== 400).reduce((sum, [, n]) => sum + n, 0)
  assert.ok(beyond400 >= 300, `only ${beyond400} of 1500 answers were not a 400: ${JSON.stringify([...statuses])}`)
  assert.deepEqual(failures, [])
  assert.deepEqual(uncaught, [])
  assert.equal((await fetch(`${fx.url}/healthz`)).status, 200)
  const grown = heapAfterGc() - heapBefore
  assert.ok(grown < 32 * 1024 * 1024, `the heap grew by ${Math.round(grown / 1024 / 1024)} MiB over 1500 requests`)
})
