import { test } from 'node:test'
import assert from 'node:assert/strict'
import { appendFileSync, mkdtempSync, rmSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Tracer } from '@opentelemetry/api'
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer'
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { ATTR, GENAI } from '../../../src/control/index.js'
import { FileTraceStore, buildRunTree, decodeOtlpProtobuf, initTracing, renderRunTree, toStoredSpans } from '../../../src/observe/index.js'
import { startObserveServer } from '../observe-server.js'
import { spansOf } from '../../helpers/spans.js'

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-traces-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** One small run: worker span → node → model call (with tokens and cost). */
function recordRun(tracer: Tracer, workflow = 'email.compose', fail = false): string {
  const run = tracer.startSpan(`run ${workflow}`, {
    kind: SpanKind.CONSUMER,
    attributes: { [ATTR.workflow]: workflow, [ATTR.runId]: 'run_1' },
  })
  const runContext = trace.setSpan(ROOT_CONTEXT, run)
  const node = tracer.startSpan('node draft', { attributes: { [ATTR.graphNode]: 'draft' } }, runContext)
  const chat = tracer.startSpan(
    'chat offline',
    {
      kind: SpanKind.CLIENT,
      attributes: { [GENAI.requestModel]: 'offline', [GENAI.inputTokens]: 120, [GENAI.outputTokens]: 45, [ATTR.costUsd]: 0.00031 },
    },
    trace.setSpan(runContext, node),
  )
  chat.end()
  node.end()
  if (fail) {
    run.setAttribute(ATTR.errorCode, 'GRAPH_FAILED')
    run.setStatus({ code: SpanStatusCode.ERROR, message: 'GRAPH_FAILED: draft refused' })
  }
  run.end()
  return run.spanContext().traceId
}

for (const protocol of ['http/protobuf', 'http/json'] as const) {
  for (const compression of ['none', 'gzip'] as const) {
    void test(`the receiver stores what the OpenTelemetry exporter sends (${protocol}, ${compression})`, async (t) => {
      const store = await FileTraceStore.open(tempDir(t))
      const server = await startObserveServer(store)
      t.after(server.close)
      const tracing = initTracing({
        service: 'switchyard-pool-email',
        pool: 'email',
        project: 'sales-email',
        register: false,
        env: {
          SWITCHYARD_TRACES_URL: server.url,
          OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: protocol,
          OTEL_EXPORTER_OTLP_COMPRESSION: compression,
        },
      })
      const traceId = recordRun(tracing.tracerProvider.getTracer('test'))
      await tracing.shutdown()

      const spans = await store.getTrace(traceId)
      assert.deepEqual(spans.map((s) => s.name).sort(), ['chat offline', 'node draft', 'run email.compose'])
      const run = spans.find((s) => s.name === 'run email.compose')
      assert.equal(run?.kind, 'consumer')
      assert.equal(run?.service, 'switchyard-pool-email')
      assert.equal(run?.project, 'sales-email')
      assert.equal(run?.resource[ATTR.pool], 'email')
      assert.equal(run?.parentSpanId, null)
      const chat = spans.find((s) => s.name === 'chat offline')
      assert.equal(chat?.attributes[GENAI.inputTokens], 120)
      assert.equal(chat?.attributes[ATTR.costUsd], 0.00031)
      assert.equal(chat?.parentSpanId, spans.find((s) => s.name === 'node draft')?.spanId)

      const response = await fetch(`${server.url}/v1/traces/${traceId}`)
      assert.equal(response.status, 200)
      const body = (await response.json()) as { tree: ReturnType<typeof buildRunTree> }
      assert.equal(body.tree.spanCount, 3)
      assert.equal(body.tree.roots.length, 1)
      assert.deepEqual(body.tree.totals, { inputTokens: 120, outputTokens: 45, costUsd: 0.00031 })
    })
  }
}

async function serialized(format: 'json' | 'protobuf', workflow = 'email.compose', fail = false) {
  const exporter = new InMemorySpanExporter()
  const tracing = initTracing({
    service: 'switchyard-pool-email',
    pool: 'email',
    project: 'sales-email',
    register: false,
    env: {},
    exporter,
  })
  const traceId = recordRun(tracing.tracerProvider.getTracer('test'), workflow, fail)
  await tracing.forceFlush()
  const spans: ReadableSpan[] = exporter.getFinishedSpans()
  await tracing.shutdown()
  const body = format === 'json' ? JsonTraceSerializer.serializeRequest(spans) : ProtobufTraceSerializer.serializeRequest(spans)
  assert.ok(body)
  return { traceId, body: Buffer.from(body) }
}

void test('bad exports are refused with the reason, and nothing is stored', async (t) => {
  const store = await FileTraceStore.open(tempDir(t))
  const server = await startObserveServer(store)
  t.after(server.close)
  const post = async (body: string | Buffer, headers: Record<string, string>) => {
    const res = await fetch(`${server.url}/v1/traces`, {
      method: 'POST',
      body: typeof body === 'string' ? body : new Uint8Array(body),
      headers,
    })
    return { status: res.status, body: (await res.json()) as { code: string; detail: string } }
  }
  assert.deepEqual(await post('hello', { 'content-type': 'text/plain' }), {
    status: 415,
    body: { code: 'UNSUPPORTED_MEDIA_TYPE', detail: "OTLP/HTTP takes application/x-protobuf or application/json; got 'text/plain'" },
  })
  assert.deepEqual(await post('{"resourceSpans": [', { 'content-type': 'application/json' }), {
    status: 400,
    body: { code: 'BAD_REQUEST', detail: 'OTLP/JSON body is not valid JSON: Unexpected end of JSON input' },
  })
  assert.deepEqual(await post(Buffer.from([0x0a, 0x05, 0x01]), { 'content-type': 'application/x-protobuf' }), {
    status: 400,
    body: { code: 'BAD_REQUEST', detail: 'OTLP/protobuf body is malformed: premature EOF' },
  })
  assert.deepEqual(await post(Buffer.from('not gzip'), { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' }), {
    status: 400,
    body: { code: 'BAD_REQUEST', detail: 'the gzip body could not be decompressed: incorrect header check' },
  })
  const missing = await fetch(`${server.url}/v1/traces/${'a'.repeat(32)}`)
  assert.equal(missing.status, 404)
  const notAnId = await fetch(`${server.url}/v1/traces/xyz`)
  assert.deepEqual(await notAnId.json(), { code: 'BAD_REQUEST', detail: "'xyz' is not a trace id (32 hex digits)" })
  assert.deepEqual(await store.listRuns(), [])
})

void test('gzip-encoded JSON from a hand-rolled sender is accepted too', async (t) => {
  const store = await FileTraceStore.open(tempDir(t))
  const server = await startObserveServer(store)
  t.after(server.close)
  const { traceId, body } = await serialized('json')
  const res = await fetch(`${server.url}/v1/traces`, {
    method: 'POST',
    body: gzipSync(body),
    headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
  })
  assert.equal(res.status, 200)
  assert.equal((await store.getTrace(traceId)).length, 3)
})

void test('runs are listed newest first, filtered by pool, workflow and status, and everything survives a restart', async (t) => {
  const dir = tempDir(t)
  const store = await FileTraceStore.open(dir)
  const server = await startObserveServer(store)
  t.after(server.close)
  const ids: string[] = []
  for (const [workflow, fail] of [
    ['email.compose', false],
    ['lead.classify', true],
    ['email.compose', true],
  ] as const) {
    const { traceId, body } = await serialized('protobuf', workflow, fail)
    ids.push(traceId)
    await fetch(`${server.url}/v1/traces`, { method: 'POST', body, headers: { 'content-type': 'application/x-protobuf' } })
  }
  const list = async (query: string) =>
    (
      (await (await fetch(`${server.url}/v1/traces${query}`)).json()) as {
        runs: { traceId: string; workflow: string; status: string; errorCode: string | null; pool: string; runId: string }[]
      }
    ).runs
  const all = await list('')
  assert.deepEqual(
    all.map((r) => r.traceId),
    [...ids].reverse(),
  )
  assert.deepEqual(all[0], {
    ...all[0],
    workflow: 'email.compose',
    pool: 'email',
    status: 'failed',
    errorCode: 'GRAPH_FAILED',
    runId: 'run_1',
  })
  assert.deepEqual(
    (await list('?workflow=email.compose&status=failed')).map((r) => r.traceId),
    [ids[2]],
  )
  assert.deepEqual(
    (await list('?status=succeeded')).map((r) => r.traceId),
    [ids[0]],
  )
  assert.deepEqual((await list('?pool=classify')).length, 0)
  const bad = await fetch(`${server.url}/v1/traces?status=done`)
  assert.deepEqual(await bad.json(), { code: 'BAD_REQUEST', detail: "status must be 'succeeded' or 'failed', got 'done'" })

  await store.close()
  // A crash mid-append leaves half a line at the end of the newest segment.
  const segment = join(dir, 'sales-email', '00000001.jsonl')
  appendFileSync(segment, '{"traceId":"' + (ids[0] ?? '') + '","spanId":"ab')
  const reopened = await FileTraceStore.open(dir)
  assert.deepEqual(
    (await reopened.listRuns()).map((r) => r.traceId),
    [...ids].reverse(),
  )
  assert.equal((await reopened.getTrace(ids[1] ?? '')).length, 3)
  assert.equal((await reopened.getTrace(ids[0] ?? '')).length, 3, 'the cut line is skipped')
  // New spans after the restart are readable too (they go to a fresh segment, not after the cut line).
  const { traceId, body } = await serialized('protobuf')
  await reopened.add(toStoredSpans(decodeOtlpProtobuf(body)))
  assert.equal((await reopened.getTrace(traceId)).length, 3)
  await reopened.close()

  // Another process's retention can drop a segment between our listing and our read:
  // a listed segment that is gone by then (here: a dangling link) is skipped, not fatal.
  symlinkSync(join(dir, 'sales-email', 'dropped-by-retention'), join(dir, 'sales-email', '00000000.jsonl'))
  const afterRetention = await FileTraceStore.open(dir)
  assert.equal((await afterRetention.getTrace(ids[1] ?? '')).length, 3)
  await afterRetention.close()
})

void test('each project keeps at most its bound: the oldest traces go first, other projects untouched', async (t) => {
  const dir = tempDir(t)
  const store = await FileTraceStore.open(dir, { maxTracesPerProject: 3 })
  // One span per trace (the run's own), as a store keeps it.
  const span = (traceId: string, project: string) => spansOf(traceId)(project, { name: 'run x', kind: 'consumer' })
  const id = (i: number) => i.toString(16).padStart(32, '0')
  for (let i = 1; i <= 5; i++) await store.add([span(id(i), 'sales-email')])
  await store.add([span(id(9), 'sales-classify')])
  const kept = async (s: FileTraceStore, ids: number[]) => {
    const found: number[] = []
    for (const i of ids) if ((await s.getTrace(id(i))).length > 0) found.push(i)
    return found
  }
  assert.deepEqual(await kept(store, [1, 2, 3, 4, 5, 9]), [3, 4, 5, 9])
  assert.deepEqual(
    store
      .projectStats()
      .map((p) => [p.project, p.traces])
      .sort(),
    [
      ['sales-classify', 1],
      ['sales-email', 3],
    ],
  )
  await store.close()

  // The bound holds across a restart, and a bytes bound drops the oldest too.
  const bytes = await FileTraceStore.open(dir, { maxBytesPerProject: 600 })
  assert.deepEqual(await kept(bytes, [3, 4, 5, 9]), [3, 4, 5, 9])
  for (let i = 6; i <= 8; i++) await bytes.add([span(id(i), 'sales-email')])
  const email = bytes.projectStats().find((p) => p.project === 'sales-email')
  assert.ok((email?.bytes ?? 0) <= 600, `sales-email holds ${email?.bytes} bytes`)
  assert.deepEqual(await kept(bytes, [8]), [8])
  assert.ok((await kept(bytes, [3, 4, 5])).length < 3, 'the oldest went first')
  assert.ok(readdirSync(join(dir, 'sales-email')).every((name) => /^\d{8}\.jsonl$/.test(name)))
  await bytes.close()
})

void test("retention drops a trace's lines from the full project only; a trace holds its runs' members, not every sender's", async (t) => {
  const store = await FileTraceStore.open(tempDir(t), { maxTracesPerProject: 3 })
  const traceId = 'a'.repeat(32)
  const span = spansOf(traceId)
  const gateway = span(
    'sales-email',
    { kind: 'server' },
    { [ATTR.workflow]: 'email.compose', [ATTR.pool]: 'email', [ATTR.caller]: 'token:c' },
  )
  const worker = span('sales-email', { sender: { id: 'ingest:email', pools: ['email'] } }, { [GENAI.inputTokens]: 7 })
  const client = span('_other', { sender: { id: 'token:c' } })
  const stranger = span('quiet', { sender: { id: 'ingest:quiet', pools: ['quiet'] } }, { [GENAI.inputTokens]: 1e12 })
  const otherCaller = span('_other', { sender: { id: 'token:d' }, spanId: worker.spanId })
  await store.add([gateway, worker, client, stranger, otherCaller])
  const names = async (project?: string) => (await store.getTrace(traceId, project ? { project } : {})).map((s) => s.name)
  assert.deepEqual(await names(), [gateway.name, worker.name, client.name])
  assert.deepEqual(await names('quiet'), [stranger.name])
  assert.deepEqual(
    (await store.listRuns()).map((run) => run.tokens.input),
    [7],
  )
  // Without a span of the gateway's naming a pool or caller, nothing says whose the trace is: it reads whole.
  const lone = 'b'.repeat(32)
  await store.add([
    { ...span('sales-email', worker), traceId: lone },
    { ...span('quiet', stranger), traceId: lone },
  ])
  assert.equal((await store.getTrace(lone)).length, 2)
  // The callers that may continue a trace: those the gateway's spans name; none named, nobody's.
  assert.deepEqual(await store.traceCallers(traceId), new Set(['token:c']))
  assert.equal(await store.traceCallers(lone), null)
  assert.equal(await store.traceCallers('c'.repeat(32)), null)
  // The quiet project fills up: its lines of the trace go, the rest stays.
  const id = (i: number) => i.toString(16).padStart(32, '0')
  for (let i = 1; i <= 4; i++) await store.add([{ ...span('quiet'), traceId: id(i) }])
  assert.deepEqual(await names('quiet'), [])
  assert.deepEqual(await names(), [gateway.name, worker.name, client.name])
  assert.equal((await store.listRuns()).length, 1)
  await store.close()
})

void test('the run tree renders with durations, status, tokens and cost', () => {
  const base = {
    traceId: 'ab'.repeat(16),
    kind: 'internal' as const,
    project: 'sales-email',
    status: 'ok' as const,
    resource: {},
    attributes: {},
  }
  const tree = buildRunTree([
    {
      ...base,
      spanId: 'a'.repeat(16),
      parentSpanId: null,
      name: 'client run email.compose',
      service: 'switchyard-client',
      start: 0,
      end: 42.5,
    },
    {
      ...base,
      spanId: 'b'.repeat(16),
      parentSpanId: 'a'.repeat(16),
      name: 'POST /v1/workflows/{name}/run',
      service: 'switchyard-gateway',
      start: 1,
      end: 41,
    },
    {
      ...base,
      spanId: 'c'.repeat(16),
      parentSpanId: 'b'.repeat(16),
      name: 'route email.compose',
      service: 'switchyard-gateway',
      start: 1.2,
      end: 1.5,
    },
    {
      ...base,
      spanId: 'd'.repeat(16),
      parentSpanId: 'b'.repeat(16),
      name: 'run email.compose',
      service: 'switchyard-pool-email',
      start: 3,
      end: 40,
    },
    {
      ...base,
      spanId: 'e'.repeat(16),
      parentSpanId: 'd'.repeat(16),
      name: 'chat offline',
      service: 'switchyard-pool-email',
      start: 4,
      end: 39,
      attributes: { [GENAI.inputTokens]: 120, [GENAI.outputTokens]: 45, [ATTR.costUsd]: 0.00031 },
    },
    {
      ...base,
      spanId: 'f'.repeat(16),
      parentSpanId: 'd'.repeat(16),
      name: 'node review',
      service: 'switchyard-pool-email',
      start: 39,
      end: 39.5,
      status: 'error',
      attributes: { [ATTR.errorCode]: 'GRAPH_FAILED' },
    },
  ])
  assert.equal(
    renderRunTree(tree),
    [
      `trace ${'ab'.repeat(16)} · 6 spans · 3 services · 42.5 ms · tokens 120 in / 45 out · $0.000310 · failed`,
      'client run email.compose  [switchyard-client]  42.5 ms  ✓',
      '└─ POST /v1/workflows/{name}/run  [switchyard-gateway]  40.0 ms  ✓',
      '   ├─ route email.compose  300 µs  ✓',
      '   └─ run email.compose  [switchyard-pool-email]  37.0 ms  ✓',
      '      ├─ chat offline  35.0 ms  ✓  tokens 120→45  $0.000310',
      '      └─ node review  500 µs  ✗ GRAPH_FAILED',
    ].join('\n'),
  )
})

void test('who may join or read a trace is answered without reading its spans: other senders piled under its id cost nothing', async (t) => {
  const dir = tempDir(t)
  const store = await FileTraceStore.open(dir, { projects: ['sales-email'] })
  const traceId = 'e'.repeat(32)
  const span = spansOf(traceId)
  const gateway = span(
    'sales-email',
    { kind: 'server', name: 'POST /v1/workflows/{name}/run' },
    { [ATTR.workflow]: 'email.compose', [ATTR.pool]: 'email', [ATTR.caller]: 'token:c' },
  )
  // Another caller's spans under the same id, many of them, and some that look like the gateway's.
  const piled = Array.from({ length: 5000 }, () =>
    span('_other', { sender: { id: 'token:d' }, kind: 'server' }, { [ATTR.caller]: 'token:d', [ATTR.workflow]: 'x', pad: 'p'.repeat(200) }),
  )
  await store.add([gateway])
  await store.add(piled)
  // The same spans under an id of their own: a trace in which the gateway recorded nothing.
  const loneId = 'd'.repeat(32)
  await store.add(piled.slice(0, 100).map((s) => ({ ...s, traceId: loneId })))
  const access = { anchored: true, runs: [{ workflow: 'email.compose', pool: 'email' }] }
  const lone = { anchored: false, runs: [{ workflow: 'x', pool: undefined }] }
  assert.deepEqual(await store.traceCallers(traceId), new Set(['token:c']))
  assert.deepEqual(await store.traceAccess(traceId), access)
  assert.equal(await store.traceCallers(loneId), null)
  assert.deepEqual(await store.traceAccess(loneId), lone)
  assert.equal(await store.traceAccess('f'.repeat(32)), null)
  // A restart rebuilds the same answer from the segments.
  const reopened = await FileTraceStore.open(dir, { projects: ['sales-email'] })
  assert.deepEqual(await reopened.traceCallers(traceId), new Set(['token:c']))
  assert.deepEqual(await reopened.traceAccess(traceId), access)
  assert.deepEqual(await reopened.traceAccess(loneId), lone)
  // Every stored line made unreadable, sizes kept: asking still answers, so it read none of them.
  let bytes = 0
  for (const project of readdirSync(dir)) {
    for (const name of readdirSync(join(dir, project))) {
      const path = join(dir, project, name)
      const size = statSync(path).size
      bytes += size
      writeFileSync(path, Buffer.alloc(size, '#'))
    }
  }
  assert.ok(bytes > 1_000_000, `${bytes} bytes stored`)
  for (const s of [store, reopened]) {
    assert.deepEqual(await s.traceCallers(traceId), new Set(['token:c']))
    assert.deepEqual(await s.traceAccess(traceId), access)
    assert.deepEqual(await s.traceAccess(loneId), lone)
    assert.deepEqual(await s.getTrace(traceId), [], 'the lines are unreadable indeed')
    await s.close()
  }
})

void test('a segment cut short within its last line’s first bytes still opens (no RangeError)', async (t) => {
  const dir = tempDir(t)
  const span = (traceId: string) => spansOf(traceId)('sales-email', { name: 'run x', kind: 'consumer' })
  const store = await FileTraceStore.open(dir)
  await store.add([span('a'.repeat(32))])
  await store.close()
  // A crash after 7 bytes of the next line: shorter than the `{"traceId":"` the scan looks for.
  appendFileSync(join(dir, 'sales-email', '00000001.jsonl'), '{"trace')
  const reopened = await FileTraceStore.open(dir)
  assert.equal((await reopened.getTrace('a'.repeat(32))).length, 1)
  await reopened.add([span('b'.repeat(32))])
  assert.equal((await reopened.getTrace('b'.repeat(32))).length, 1)
  await reopened.close()
})
