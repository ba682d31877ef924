// Issue 12.5: 2,500 unauthenticated requests in 1.7 s filled a pool's trace project with
// 401 spans and evicted a real trace. Auth now comes before the request span: a request
// without a valid token writes nothing anywhere — no span, no stored trace, no queued
// run — and is only counted (switchyard_gateway_requests_total{status="401"}).
import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { ingestToken, newIngestSecret } from '../../src/gateway/index.js'
import { StoreSpanExporter, initTracing, type Tracing } from '../../src/observe/index.js'
import { sampleValue } from '../helpers/prometheus.js'
import { get, post, startFixture, type Fixture } from '../gateway/fixture.js'
import { otlpJson, postSpans } from './otlp-export.js'

const ADMIN = { authorization: 'Bearer admin-token-unauthenticated' }
const secret = newIngestSecret()

let fx: Fixture
let traceDir: string
let tracing: Tracing
before(async () => {
  traceDir = mkdtempSync(join(tmpdir(), 'switchyard-unauth-'))
  fx = await startFixture({ tokens: ['admin-token-unauthenticated'], ingestSecret: secret, traceDir })
  tracing = initTracing({ service: 'switchyard-gateway', env: {}, exporter: new StoreSpanExporter(fx.gateway.traceStore!) })
})
after(async () => {
  await tracing.shutdown()
  await fx.close()
  rmSync(traceDir, { recursive: true, force: true })
})

/** Every file under the trace folder with its size: what "writes nothing" is checked against. */
function snapshot(dir: string): Record<string, number> {
  const out: Record<string, number> = {}
  for (const project of readdirSync(dir)) {
    for (const file of readdirSync(join(dir, project))) out[`${project}/${file}`] = statSync(join(dir, project, file)).size
  }
  return out
}

void test('2,500 requests without a valid token: all 401, and nothing is written anywhere', async () => {
  const real = await post(`${fx.url}/v1/workflows/echo.say/run`, { text: 'real' }, ADMIN)
  assert.equal(real.status, 200)
  const realTrace = real.headers.get('x-switchyard-trace-id') ?? ''
  await tracing.forceFlush()
  const files = snapshot(traceDir)
  assert.ok(Object.keys(files).some((file) => file.startsWith('sales-email/')))
  const runs = ((await get(`${fx.url}/v1/runs?limit=1000`, ADMIN)).body as { runs: unknown[] }).runs.length

  const spans = otlpJson([{ service: 'switchyard-pool-email', project: 'sales-email', spans: [{ name: 'run echo.say' }] }])
  const wrongCredential = ingestToken(newIngestSecret(), 'email')
  const attacks: (() => Promise<number>)[] = [
    async () => (await post(`${fx.url}/v1/workflows/echo.say/run`, { text: 'x' })).status,
    async () => (await post(`${fx.url}/v1/workflows/echo.say/run`, { text: 'x' }, { authorization: 'Bearer guess' })).status,
    async () => (await postSpans(fx.url, spans)).status,
    async () => (await postSpans(fx.url, spans, wrongCredential)).status,
    async () => (await get(`${fx.url}/v1/runs`)).status,
    async () => (await get(`${fx.url}/v1/traces/${realTrace}`, { authorization: 'Bearer admin-token-unauthenticatee' })).status,
  ]
  const total = 2500
  const statuses = new Map<number, number>()
  let next = 0
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      for (let i = next++; i < total; i = next++) {
        const status = await (attacks[i % attacks.length] as () => Promise<number>)()
        statuses.set(status, (statuses.get(status) ?? 0) + 1)
      }
    }),
  )
  assert.deepEqual([...statuses], [[401, total]])
  await tracing.forceFlush()

  // Not a byte more on disk, the real trace still whole, no run queued.
  assert.deepEqual(snapshot(traceDir), files)
  const stored = await get(`${fx.url}/v1/traces/${realTrace}`, ADMIN)
  assert.equal(stored.status, 200)
  assert.ok((stored.body as { spans: { name: string }[] }).spans.some((s) => s.name === 'run echo.say'))
  assert.equal(((await get(`${fx.url}/v1/runs?limit=1000`, ADMIN)).body as { runs: unknown[] }).runs.length, runs)

  // Counted, by route: the one trace of them an operator gets.
  const metrics = await (await fetch(`${fx.url}/metrics`, { headers: ADMIN })).text()
  const counted = [
    ['POST', '/v1/workflows/{name}/run'],
    ['POST', '/v1/traces'],
    ['GET', '/v1/runs'],
    ['GET', '/v1/traces/{traceId}'],
  ].reduce(
    (sum, [method, route]) =>
      sum + (sampleValue(metrics, 'switchyard_gateway_requests_total', { method: method!, route: route!, status: 401 }) ?? 0),
    0,
  )
  assert.equal(counted, total)
})
