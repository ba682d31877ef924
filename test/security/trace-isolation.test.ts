// SECURITY.md row 12 (trace isolation): a trace id is no secret — a graph sees its run's,
// a caller gets it in a header — and the receiver refuses only spans that claim another
// pool's workflow or pool. Spans that claim nothing were merged into whatever trace id
// they named: a hostile pool's ingest credential (or another caller's token, through the
// shared `_other` project) could hang spans under a victim's run, replace its spans by
// reusing their ids, flip its status and add a trillion tokens to its summary. A run's
// trace now takes in only the gateway's spans and those of the pools and caller the
// gateway's spans name; the attacker's spans stay the attacker's, readable in its project.
//
// Real parts: the gateway on loopback with its spans in its store (as `dev` and `start`
// do), the victim's client and pool and the hostile pool exporting with OpenTelemetry's
// own OTLP/protobuf exporter under their real credentials.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { ROOT_CONTEXT, SpanStatusCode, TraceFlags, trace, type Context } from '@opentelemetry/api'
import { ATTR, GENAI, SERVICE } from '../../src/control/index.js'
import { ingestToken, newIngestSecret, parseTokensFile } from '../../src/gateway/index.js'
import { StoreSpanExporter, initTracing, type RunNode, type RunTree, type StoredSpan, type Tracing } from '../../src/observe/index.js'
import { get, post, startFixture, type Fixture } from '../gateway/fixture.js'
import { otlpJson, postSpans } from './otlp-export.js'

const secret = newIngestSecret()
// `hostile-runner` shares the victim's name on purpose: names are labels, not identities.
const TOKENS = `admin-iso-token admin
victim-runner-token run workflows=echo.say name=victim
victim-reader-token read pools=email
quiet-reader-token read pools=quiet
hostile-runner-token run workflows=quiet.say,echo.fail name=victim
`
const as = (token: string) => ({ authorization: `Bearer ${token}` })
const ADMIN = as('admin-iso-token')
const VICTIM_READER = as('victim-reader-token')
const QUIET_READER = as('quiet-reader-token')

let fx: Fixture
let traceDir: string
let gatewayTracing: Tracing
const senders: Tracing[] = []

before(async () => {
  traceDir = mkdtempSync(join(tmpdir(), 'switchyard-isolation-'))
  fx = await startFixture({ tokens: parseTokensFile(TOKENS, 'tokens'), ingestSecret: secret, traceDir })
  // The gateway's own spans go straight into its store, as under `dev` and `start`.
  gatewayTracing = initTracing({ service: SERVICE.gateway, env: {}, exporter: new StoreSpanExporter(fx.gateway.traceStore!) })
})
after(async () => {
  for (const sender of senders) await sender.shutdown()
  await gatewayTracing.shutdown()
  await fx.close()
  rmSync(traceDir, { recursive: true, force: true })
})

/** A process exporting to the gateway's receiver as a pool's worker or a typed client does: OTLP/protobuf, its own credential. */
function sender(service: string, token: string, pool?: { name: string; project: string }): Tracing {
  const tracing = initTracing({
    service,
    ...(pool ? { pool: pool.name, project: pool.project } : {}),
    env: { SWITCHYARD_TRACES_URL: fx.url, SWITCHYARD_TRACES_TOKEN: token },
    register: false,
  })
  senders.push(tracing)
  return tracing
}

/** A context whose parent is `spanId` of trace `traceId`, as a sender that learnt both would make it. */
const under = (traceId: string, spanId: string): Context =>
  trace.setSpanContext(ROOT_CONTEXT, { traceId, spanId, traceFlags: TraceFlags.SAMPLED, isRemote: true })

interface TraceBody {
  traceId: string
  tree: RunTree
  spans: StoredSpan[]
}
interface Listed {
  traceId: string
  workflow: string
  status: string
  tokens: { input: number; output: number }
  costUsd: number
}

const view = async (traceId: string, headers: Record<string, string>, project?: string) =>
  get(`${fx.url}/v1/traces/${traceId}${project ? `?project=${encodeURIComponent(project)}` : ''}`, headers)
const listed = async (traceId: string, headers: Record<string, string>) =>
  ((await get(`${fx.url}/v1/traces?limit=1000`, headers)).body as { runs: Listed[] }).runs.filter((run) => run.traceId === traceId)
const names = (node: RunNode): unknown => [node.name, ...node.children.map(names)]

void test("a hostile pool's or caller's spans under a victim run's trace id change neither its tree, its summary nor the run list", async () => {
  // The victim: a typed client with its own span, its run of echo.say (pool email), and a
  // model call its pool's worker reports under the run, with the email pool's credential.
  const client = sender('victim-client', 'victim-runner-token')
  const clientSpan = client.tracerProvider.getTracer('client').startSpan('client run echo.say')
  const { traceId, spanId: clientSpanId } = clientSpan.spanContext()
  const run = await post(
    `${fx.url}/v1/workflows/echo.say/run`,
    { text: 'victim' },
    { ...as('victim-runner-token'), traceparent: `00-${traceId}-${clientSpanId}-01` },
  )
  assert.equal(run.status, 200)
  assert.equal(run.headers.get('x-switchyard-trace-id'), traceId)
  clientSpan.end()
  await client.forceFlush()
  await gatewayTracing.forceFlush()
  const first = (await view(traceId, ADMIN)).body as TraceBody
  const runSpan = first.spans.find((span) => span.name === 'run echo.say')
  const serverSpan = first.spans.find((span) => span.kind === 'server')
  assert.ok(runSpan && serverSpan, 'the gateway and its worker recorded the run')
  const email = sender(SERVICE.pool('email'), ingestToken(secret, 'email'), { name: 'email', project: 'sales-email' })
  email.tracerProvider
    .getTracer('switchyard.graph')
    .startSpan(
      'chat offline',
      { attributes: { [GENAI.inputTokens]: 10, [GENAI.outputTokens]: 5, [ATTR.costUsd]: 0.25 } },
      under(traceId, runSpan.spanId),
    )
    .end()
  await email.forceFlush()

  const before = { admin: await view(traceId, ADMIN), victim: await view(traceId, VICTIM_READER) }
  assert.equal(before.victim.status, 200)
  const tree = (before.admin.body as TraceBody).tree
  // The legitimate trace is whole: the client's span, the gateway's, the worker's and the pool's model call.
  assert.deepEqual(names(tree.roots[0] as RunNode), [
    'client run echo.say',
    ['POST /v1/workflows/{name}/run', ['route echo.say'], ['enqueue email', ['run echo.say', ['chat offline']]]],
  ])
  assert.equal(tree.roots.length, 1)
  assert.deepEqual(tree.totals, { inputTokens: 10, outputTokens: 5, costUsd: 0.25 })
  const listedBefore = { admin: await listed(traceId, ADMIN), victim: await listed(traceId, VICTIM_READER) }
  assert.deepEqual(
    listedBefore.victim.map((r) => [r.workflow, r.status, r.tokens, r.costUsd]),
    [['echo.say', 'succeeded', { input: 10, output: 5 }, 0.25]],
  )

  // The attack. The quiet pool's credential, through its SDK exporter: claim-less spans with
  // forged parents (the victim's run and request spans), a trillion tokens, an error status,
  // and a run of its own pool's workflow (a claim it may make) under the victim's root.
  const quiet = sender(SERVICE.pool('quiet'), ingestToken(secret, 'quiet'), { name: 'quiet', project: 'quiet' })
  const tracer = quiet.tracerProvider.getTracer('attacker')
  const huge = { [GENAI.inputTokens]: 1e12, [GENAI.outputTokens]: 1e12, [ATTR.costUsd]: 1e9 }
  tracer.startSpan('chat stolen', { attributes: huge }, under(traceId, runSpan.spanId)).end()
  const failing = tracer.startSpan('node sabotage', {}, under(traceId, serverSpan.spanId))
  failing.setStatus({ code: SpanStatusCode.ERROR, message: 'forged failure' })
  failing.end()
  tracer
    .startSpan('run quiet.say', { attributes: { [ATTR.workflow]: 'quiet.say', [ATTR.pool]: 'quiet' } }, under(traceId, clientSpanId))
    .end()
  await quiet.forceFlush()
  // And by hand: spans that reuse the victim's own span ids, to replace them.
  const replace = (spanId: string, name: string) => ({ name, traceId, spanId, attributes: { ...huge } })
  const forged = otlpJson([
    { service: SERVICE.pool('quiet'), project: 'quiet', spans: [replace(runSpan.spanId, 'run echo.say'), replace(clientSpanId, 'x')] },
  ])
  assert.deepEqual(await postSpans(fx.url, forged, ingestToken(secret, 'quiet')), { status: 200 })
  // Another caller (same name as the victim's token) through the shared `_other` project.
  const viaOther = otlpJson([
    {
      service: 'victim-client',
      spans: [
        { name: 'client tokens', traceId, parentSpanId: serverSpan.spanId, attributes: { ...huge } },
        replace(serverSpan.spanId, 'y'),
      ],
    },
  ])
  assert.deepEqual(await postSpans(fx.url, viaOther, 'hostile-runner-token'), { status: 200 })

  // The victim's trace, its summary and the run list read exactly as before.
  for (const [who, headers] of [
    ['admin', ADMIN],
    ['victim', VICTIM_READER],
  ] as const) {
    const after = await view(traceId, headers)
    assert.equal(after.status, 200, who)
    assert.deepEqual(after.body, before[who].body, `${who}: the trace view changed`)
    assert.deepEqual(await listed(traceId, headers), listedBefore[who], `${who}: the run list changed`)
  }

  // The attacker's spans are kept, in its own project, for the readers of its own pool.
  const own = await view(traceId, QUIET_READER, 'quiet')
  assert.equal(own.status, 200)
  assert.deepEqual(
    (own.body as TraceBody).spans.map((span) => span.name).sort(),
    ['chat stolen', 'node sabotage', 'run echo.say', 'run quiet.say', 'x'].sort(),
  )
  // Not the victim's run, not the victim's project, not the callers' shared project.
  assert.equal((await view(traceId, QUIET_READER)).status, 403)
  assert.equal((await view(traceId, QUIET_READER, 'sales-email')).status, 403)
  assert.equal((await view(traceId, QUIET_READER, '_other')).status, 403)
  assert.equal((await view(traceId, VICTIM_READER, 'quiet')).status, 403)
  // An unrestricted reader sees the other caller's spans where they were filed.
  const other = (await view(traceId, ADMIN, '_other')).body as TraceBody
  assert.ok(other.spans.some((span) => span.name === 'client tokens'))
})

void test("a hostile pool filling its own project does not evict a victim's trace it posted a span under", async () => {
  // Retention drops a project's oldest segment with every trace that has lines in it. Before,
  // that dropped those traces from every project: one span under the victim's trace id, then
  // enough traces of its own to fill its project, and the victim's run was gone (404).
  const run = await post(`${fx.url}/v1/workflows/echo.say/run`, { text: 'kept' }, as('victim-runner-token'))
  assert.equal(run.status, 200)
  const traceId = run.headers.get('x-switchyard-trace-id') ?? ''
  await gatewayTracing.forceFlush()
  const before = await view(traceId, VICTIM_READER)
  assert.equal(before.status, 200)
  const credential = ingestToken(secret, 'quiet')
  // 9 exports of 260 traces: past the project's 2,000 traces, so its oldest segments go.
  for (let round = 0; round < 9; round++) {
    const spans = Array.from({ length: 260 }, (_, i) => ({ name: `filler ${round}.${i}`, ...(round === 0 && i === 0 ? { traceId } : {}) }))
    assert.deepEqual(await postSpans(fx.url, otlpJson([{ service: SERVICE.pool('quiet'), project: 'quiet', spans }]), credential), {
      status: 200,
    })
  }
  assert.equal((await view(traceId, QUIET_READER, 'quiet')).status, 404, "the hostile pool's own span under that id went with its segment")
  const after = await view(traceId, VICTIM_READER)
  assert.equal(after.status, 200)
  assert.deepEqual(after.body, before.body)
  assert.equal((await listed(traceId, VICTIM_READER)).length, 1)
})

void test("a caller naming another caller's trace in traceparent gets a trace of its own; the caller that started it still joins it", async () => {
  // Before, any token that may run some workflow could start a run under any trace id it
  // named: the gateway's own spans of that run (trusted) then joined the victim's trace,
  // and with them the run's pool and caller as members of it.
  const client = sender('victim-client', 'victim-runner-token')
  const session = client.tracerProvider.getTracer('client').startSpan('client session')
  const { traceId, spanId } = session.spanContext()
  const traceparent = `00-${traceId}-${spanId}-01`
  const first = await post(`${fx.url}/v1/workflows/echo.say/run`, { text: 'one' }, { ...as('victim-runner-token'), traceparent })
  assert.equal(first.status, 200)
  assert.equal(first.headers.get('x-switchyard-trace-id'), traceId)
  await gatewayTracing.forceFlush()
  const before = { view: await view(traceId, VICTIM_READER), listed: await listed(traceId, VICTIM_READER) }
  assert.equal(before.view.status, 200)

  // Another caller (its token may run a workflow of the victim's own pool) names that trace.
  const hostile = await post(`${fx.url}/v1/workflows/echo.fail/run`, {}, { ...as('hostile-runner-token'), traceparent })
  assert.equal(hostile.status, 502)
  const hostileTrace = hostile.headers.get('x-switchyard-trace-id') ?? ''
  assert.match(hostileTrace, /^[0-9a-f]{32}$/)
  assert.notEqual(hostileTrace, traceId, 'the hostile run got a trace of its own')
  await gatewayTracing.forceFlush()
  assert.deepEqual((await view(traceId, VICTIM_READER)).body, before.view.body)
  assert.deepEqual(await listed(traceId, VICTIM_READER), before.listed)
  // Its run is still traced, under its own id.
  assert.equal(((await view(hostileTrace, ADMIN)).body as TraceBody).spans.filter((span) => span.name === 'run echo.fail').length, 1)

  // The caller that started the trace continues it: a second run joins the same trace.
  const second = await post(`${fx.url}/v1/workflows/echo.say/run`, { text: 'two' }, { ...as('victim-runner-token'), traceparent })
  assert.equal(second.headers.get('x-switchyard-trace-id'), traceId)
  await gatewayTracing.forceFlush()
  const after = (await view(traceId, ADMIN)).body as TraceBody
  assert.equal(after.spans.filter((span) => span.name === 'run echo.say').length, 2)
  session.end()
})
