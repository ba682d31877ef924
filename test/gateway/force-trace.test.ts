// Forced tracing: an allowed caller's `x-switchyard-force-trace: 1` keeps a run its pool
// would not sample (the `quiet` pool keeps none), in every process; the answer's
// `server-timing: trace;desc=…` tells the caller whether the run was kept.
import assert from 'node:assert/strict'
import { after, before, beforeEach, test } from 'node:test'
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base'
import { TRACE_FLAG_SAMPLED, parseTraceparent } from '../../src/control/index.js'
import { parseTokensFile } from '../../src/gateway/index.js'
import { initTracing, type Tracing } from '../../src/observe/index.js'
import { post, startFixture, type Fixture } from './fixture.js'

const exporter = new InMemorySpanExporter()
let tracing: Tracing
let open: Fixture
let guarded: Fixture
before(async () => {
  tracing = initTracing({ service: 'switchyard-gateway', env: {}, exporter })
  open = await startFixture()
  guarded = await startFixture({ tokens: [...parseTokensFile('s3cret-runner run,read\n', 'tokens'), 'admin-token'] })
})
after(async () => {
  await open.close()
  await guarded.close()
  await tracing.shutdown()
})
beforeEach(async () => {
  // Spans of the last test that were still batched go out now, not into this one.
  await tracing.forceFlush()
  exporter.reset()
})

async function names(): Promise<string[]> {
  await tracing.forceFlush()
  return exporter
    .getFinishedSpans()
    .map((s) => s.name)
    .sort()
}

const kept = (headers: Headers) => {
  const desc = /^trace;desc=(\S+)$/.exec(headers.get('server-timing') ?? '')?.[1]
  const parsed = parseTraceparent(desc)
  assert.ok(parsed, `server-timing: ${headers.get('server-timing')}`)
  return (parsed.flags & TRACE_FLAG_SAMPLED) !== 0
}

void test('an unsampled pool keeps nothing, and says so in server-timing', async () => {
  const res = await post(`${open.url}/v1/workflows/quiet.say/run`, {})
  assert.equal(res.status, 200)
  assert.equal(kept(res.headers), false)
  assert.deepEqual(await names(), [])
})

void test('forced on an open gateway: the whole run is kept, gateway and worker spans, even under an unsampled caller', async () => {
  const res = await post(
    `${open.url}/v1/workflows/quiet.say/run`,
    {},
    { 'x-switchyard-force-trace': '1', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00' },
  )
  assert.equal(res.status, 200)
  assert.equal(kept(res.headers), true)
  assert.deepEqual(await names(), ['POST /v1/workflows/{name}/run', 'enqueue quiet', 'route quiet.say', 'run quiet.say'])
  const request = exporter.getFinishedSpans().find((s) => s.name.startsWith('POST'))
  assert.equal(request?.attributes['switchyard.trace.forced'], true)
  assert.equal(request?.spanContext().traceId, '0af7651916cd43dd8448eb211c80319c')
})

void test('a failed forced run is kept too (the trace of what went wrong)', async () => {
  const res = await post(`${open.url}/v1/workflows/echo.say/run`, { text: 5 }, { 'x-switchyard-force-trace': '1' })
  assert.equal(res.status, 422)
  assert.equal(kept(res.headers), true)
  assert.deepEqual(await names(), ['POST /v1/workflows/{name}/run', 'route echo.say'])
})

void test('behind tokens without a scope that grants it, the header is not honoured: the run is sampled as usual', async () => {
  const res = await post(
    `${guarded.url}/v1/workflows/quiet.say/run`,
    {},
    { 'x-switchyard-force-trace': '1', authorization: 'Bearer s3cret-runner' },
  )
  assert.equal(res.status, 200)
  assert.equal(kept(res.headers), false)
  assert.deepEqual(await names(), [])
})

void test('behind tokens, an admin token may force a trace', async () => {
  const res = await post(
    `${guarded.url}/v1/workflows/quiet.say/run`,
    {},
    { 'x-switchyard-force-trace': '1', authorization: 'Bearer admin-token' },
  )
  assert.equal(res.status, 200)
  assert.equal(kept(res.headers), true)
  assert.ok((await names()).includes('POST /v1/workflows/{name}/run'))
})

void test('x-switchyard-force-trace takes 1 or 0; anything else is a 400 naming the header', async () => {
  const res = await post(`${open.url}/v1/workflows/quiet.say/run`, {}, { 'x-switchyard-force-trace': 'yes please' })
  assert.equal(res.status, 400)
  assert.match((res.body as { detail: string }).detail, /x-switchyard-force-trace must be 1 .* got 'yes please'/)
  const off = await post(`${open.url}/v1/workflows/quiet.say/run`, {}, { 'x-switchyard-force-trace': '0' })
  assert.equal(off.status, 200)
  assert.equal(kept(off.headers), false)
})
