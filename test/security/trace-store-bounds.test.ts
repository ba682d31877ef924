// Issue 12.6: 20,500 project names posted to /v1/traces opened one file descriptor each
// until EMFILE — 500s, and new pools' traces lost. Projects now come from the registry
// (any other name is filed under the one shared `_other` project), and the store holds
// at most `maxOpenFiles` segments open, whatever it is sent.
import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { FileTraceStore, OTHER_PROJECT, type StoredSpan } from '../../src/observe/store/index.js'
import { get, post, startFixture, type Fixture } from '../gateway/fixture.js'
import { hex, otlpJson, postSpans } from './otlp-export.js'

const ADMIN = 'admin-token-store-bounds'
const openFds = () => readdirSync('/proc/self/fd').length

let fx: Fixture
let traceDir: string
before(async () => {
  traceDir = mkdtempSync(join(tmpdir(), 'switchyard-bounds-'))
  fx = await startFixture({ tokens: [ADMIN], traceDir })
})
after(async () => {
  await fx.close()
  rmSync(traceDir, { recursive: true, force: true })
})

void test('20,500 project names through the receiver: one shared folder, no file descriptor per name, no 5xx', async () => {
  const fdsBefore = openFds()
  const statuses: number[] = []
  // 41 exports of 500 resources, each claiming a project of its own, as the attack did.
  for (let batch = 0; batch < 41; batch++) {
    const body = otlpJson(
      Array.from({ length: 500 }, (_, i) => ({
        service: `svc-${batch}-${i}`,
        project: `project-${batch}-${i}`,
        spans: [{ name: 'made up' }],
      })),
    )
    statuses.push((await postSpans(fx.url, body, ADMIN)).status)
  }
  assert.deepEqual(new Set(statuses), new Set([200]))
  assert.deepEqual(readdirSync(traceDir).sort(), [OTHER_PROJECT])
  assert.ok(openFds() - fdsBefore < 40, `file descriptors grew by ${openFds() - fdsBefore}`)

  // The pools' own projects still take their spans: a new run's trace is kept whole.
  const run = await post(`${fx.url}/v1/workflows/echo.say/run`, { text: 'after' }, { authorization: `Bearer ${ADMIN}` })
  const traceId = run.headers.get('x-switchyard-trace-id') ?? ''
  const spans = otlpJson([{ service: 'switchyard-pool-email', project: 'sales-email', spans: [{ name: 'run echo.say', traceId }] }])
  assert.equal((await postSpans(fx.url, spans, ADMIN)).status, 200)
  assert.equal((await get(`${fx.url}/v1/traces/${traceId}`, { authorization: `Bearer ${ADMIN}` })).status, 200)
  assert.deepEqual(readdirSync(traceDir).sort(), [OTHER_PROJECT, 'sales-email'])
})

const span = (project: string, traceId = hex(16)): StoredSpan => ({
  traceId,
  spanId: hex(8),
  parentSpanId: null,
  name: 'span',
  kind: 'internal',
  service: 'svc',
  project,
  start: Date.now(),
  end: Date.now() + 1,
  status: 'unset',
  attributes: {},
  resource: {},
})

void test('a store told no projects keeps each apart, yet holds at most maxOpenFiles open', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-bounds-lru-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const store = await FileTraceStore.open(dir, { maxOpenFiles: 8 })
  const fdsBefore = openFds()
  const first = span('p-0')
  await store.add([first])
  for (let i = 1; i < 2000; i++) {
    await store.add([span(`p-${i}`)])
    assert.ok(store.openFiles <= 8)
  }
  // One export naming many projects at once is bounded too.
  await store.add(Array.from({ length: 500 }, (_, i) => span(`q-${i}`)))
  assert.ok(store.openFiles <= 8, `${store.openFiles} open`)
  assert.ok(openFds() - fdsBefore <= 10, `file descriptors grew by ${openFds() - fdsBefore}`)
  // A project whose handle was closed takes its next span where it left off.
  await store.add([span('p-0', first.traceId)])
  assert.equal((await store.getTrace(first.traceId)).length, 2)
  assert.equal(readdirSync(dir).length, 2500)
  await store.close()
  assert.equal(store.openFiles, 0)
})

void test('a registry project may not be named like the shared one', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-bounds-reserved-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  await assert.rejects(FileTraceStore.open(dir, { projects: ['sales', OTHER_PROJECT] }), /project '_other' is reserved/)
})
