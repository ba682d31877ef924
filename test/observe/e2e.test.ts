// One trace per request, end to end: a caller process, the gateway (this process)
// and pool worker processes (the real supervisor and worker program), asserted
// from the gateway's embedded trace store.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { ATTR, GENAI } from '../../src/control/index.js'
import { startSupervisor, type Supervisor } from '../../src/data/supervisor/index.js'
import { freePort } from '../helpers/redis.js'
import { CLIENT, E2E_VERIFY, connected, eventually, startRig, type TracingRig } from './e2e-fixture.js'
import { OTHER_PROJECT } from '../../src/observe/store/index.js'

const exec = promisify(execFile)
const LEAD = { lead: { name: 'Ada Lovelace', email: 'ada.lovelace@analytical.example', company: 'Analytical Engines' } }

let rig: TracingRig
let supervisor: Supervisor

before(async () => {
  const dead = await freePort()
  rig = await startRig(
    `version: 1
pools:
  email:
    concurrency: 4
    timeout: 30s
    retries: 0
    tracing: { project: sales-email, sampleRate: 1.0, capture: redacted }
  broken:
    concurrency: 4
    timeout: 30s
    retries: 0
    env: broken.env
    tracing: { project: sales-broken, sampleRate: 1.0, capture: full }
workflows:
  email.compose:
    pool: email
    graph: "{graph}#graph"
    input: { type: object, required: [lead] }
    description: Subject line for one lead.
  broken.compose:
    pool: broken
    graph: "{graph}#graph"
    input: { type: object, required: [lead] }
    description: The same graph, in a pool whose trace exporter points nowhere.
`,
    // A wrong endpoint in this pool's own env: nothing listens there.
    {
      'broken.env': `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=http://127.0.0.1:${dead}/v1/traces\nOTEL_BSP_SCHEDULE_DELAY=100\nOTEL_EXPORTER_OTLP_TRACES_TIMEOUT=500\n`,
    },
  )
  supervisor = startSupervisor({
    registry: rig.registry,
    broker: { kind: 'memory', broker: rig.broker },
    worker: {
      module: fileURLToPath(new URL('../../src/cli/worker.ts', import.meta.url)),
      execArgv: ['--import', import.meta.resolve('tsx')],
      args: (pool) => ['--pool', pool.name, '--ipc'],
    },
    verifyKeys: E2E_VERIFY,
    tracesUrl: rig.gateway.url,
    extraEnv: { OTEL_BSP_SCHEDULE_DELAY: '100' },
    output: () => {},
  })
  await eventually('a worker for every pool', async () => (await rig.broker.ready()) || undefined, 30_000)
})

after(async () => {
  await supervisor?.stop()
  await rig?.close()
})

async function runClient(workflow: string, input: unknown): Promise<{ traceId: string; output: { subject: string } }> {
  const { stdout } = await exec(process.execPath, ['--import', 'tsx', CLIENT, rig.gateway.url, workflow, JSON.stringify(input)], {
    timeout: 60_000,
  })
  return JSON.parse(stdout) as { traceId: string; output: { subject: string } }
}

/** Wait until the trace holds the worker's spans (they are exported in batches). */
async function storedWith(traceId: string, names: readonly string[]) {
  return eventually(`spans ${names.join(', ')} of trace ${traceId}`, async () => {
    await rig.tracing.forceFlush()
    const spans = await rig.stored(traceId)
    return names.every((name) => spans.some((s) => s.name === name)) ? spans : undefined
  })
}

void test('one client.run → one trace: spans from the caller, the gateway and the worker, one trace id, one connected tree', async () => {
  const { traceId, output } = await runClient('email.compose', LEAD)
  assert.equal(typeof output.subject, 'string')
  const spans = await storedWith(traceId, ['sync leads', 'client run email.compose', 'run email.compose', 'node draft', 'chat offline'])

  assert.deepEqual(new Set(spans.map((s) => s.traceId)), new Set([traceId]))
  assert.deepEqual(new Set(spans.map((s) => s.service)), new Set(['switchyard-client', 'switchyard-gateway', 'switchyard-pool-email']))
  const { roots, orphans } = connected(spans)
  assert.deepEqual(
    roots.map((s) => s.name),
    ['sync leads'],
  )
  assert.deepEqual(orphans, [])

  const byName = (name: string) => {
    const span = spans.find((s) => s.name === name)
    assert.ok(span, `span '${name}' is stored (have: ${spans.map((s) => s.name).join(', ')})`)
    return span
  }
  const parentOf = (name: string) => spans.find((s) => s.spanId === byName(name).parentSpanId)?.name
  assert.equal(parentOf('client run email.compose'), 'sync leads')
  const server = spans.find((s) => s.kind === 'server')
  assert.equal(server?.parentSpanId, byName('client run email.compose').spanId, 'the gateway continues the caller’s trace')
  assert.equal(parentOf('route email.compose'), server?.name)
  assert.equal(parentOf('enqueue email'), server?.name)
  assert.equal(parentOf('run email.compose'), 'enqueue email')
  assert.equal(parentOf('node research'), 'run email.compose')
  assert.equal(parentOf('node draft'), 'run email.compose')
  assert.equal(parentOf('chat offline'), 'node draft', 'the model call is a child of the node that made it')
  assert.equal(byName('chat offline').attributes[GENAI.inputTokens] !== undefined, true, 'the model call has GenAI token counts')

  // The run's spans are filed under the pool's project; the caller's own (its project is
  // none of the registry's) under the one shared project of such spans, never a pool's.
  for (const span of spans) assert.equal(span.project, span.service === 'switchyard-client' ? OTHER_PROJECT : 'sales-email', span.name)

  // The tree API draws it the same way.
  const response = await fetch(`${rig.gateway.url}/v1/traces/${traceId}`)
  const body = (await response.json()) as { tree: { roots: { name: string }[]; spanCount: number } }
  assert.equal(body.tree.spanCount, spans.length)
  assert.deepEqual(
    body.tree.roots.map((r) => r.name),
    ['sync leads'],
  )
})

void test("redacted capture: the lead's e-mail address is absent from every stored span, while the node input is recorded masked", async () => {
  const { traceId } = await runClient('email.compose', LEAD)
  const spans = await storedWith(traceId, ['node research', 'node draft', 'chat offline'])
  const research = spans.find((s) => s.name === 'node research')
  assert.match(String(research?.attributes[ATTR.input]), /"email":"\[email\]"/)
  // Every byte the store holds for the pool's project, not just this trace.
  const folder = join(rig.traceDir, 'sales-email')
  for (const file of readdirSync(folder)) {
    const text = readFileSync(join(folder, file), 'utf8')
    assert.ok(!text.includes('ada.lovelace@analytical.example'), `${file} leaks the address`)
    assert.ok(!text.includes('analytical.example'), `${file} leaks the domain`)
  }
})

void test('a pool whose exporter points at a dead endpoint loses only its own spans; its runs and the other pool are unaffected', async () => {
  const post = (workflow: string, headers: Record<string, string> = {}) =>
    fetch(`${rig.gateway.url}/v1/workflows/${workflow}/run`, {
      method: 'POST',
      body: JSON.stringify(LEAD),
      headers: { 'content-type': 'application/json', ...headers },
    })
  const [broken, email] = await Promise.all([post('broken.compose'), post('email.compose')])
  assert.equal(broken.status, 200, 'the broken pool still runs')
  assert.equal(typeof ((await broken.json()) as { subject: string }).subject, 'string')
  assert.equal(email.status, 200)
  const emailTrace = email.headers.get('x-switchyard-trace-id') ?? ''
  const brokenTrace = broken.headers.get('x-switchyard-trace-id') ?? ''

  // A run whose caller sent no traceparent gets a trace rooted at the gateway.
  const complete = await storedWith(emailTrace, [
    'route email.compose',
    'enqueue email',
    'run email.compose',
    'node research',
    'node draft',
    'chat offline',
  ])
  const { roots, orphans } = connected(complete)
  assert.deepEqual(
    roots.map((s) => [s.service, s.kind]),
    [['switchyard-gateway', 'server']],
  )
  assert.deepEqual(orphans, [])

  // The broken pool's trace has the gateway's spans only: its worker's spans went nowhere.
  const partial = await eventually('the gateway spans of the broken run', async () => {
    await rig.tracing.forceFlush()
    const spans = await rig.stored(brokenTrace)
    return spans.some((s) => s.name === 'enqueue broken') ? spans : undefined
  })
  assert.deepEqual(new Set(partial.map((s) => s.service)), new Set(['switchyard-gateway']))
  assert.ok(!partial.some((s) => s.name === 'run broken.compose'))
})

void test('a caller-sent traceparent is continued, not replaced', async () => {
  const traceId = '0af7651916cd43dd8448eb211c80319c'
  const parent = 'b7ad6b7169203331'
  const response = await fetch(`${rig.gateway.url}/v1/workflows/email.compose/run`, {
    method: 'POST',
    body: JSON.stringify(LEAD),
    headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-${parent}-01` },
  })
  assert.equal(response.status, 200)
  assert.equal(response.headers.get('x-switchyard-trace-id'), traceId)
  const spans = await storedWith(traceId, ['run email.compose', 'node draft'])
  const server = spans.find((s) => s.kind === 'server')
  assert.equal(server?.parentSpanId, parent)
  assert.deepEqual(
    connected(spans).orphans.map((s) => s.name),
    [server?.name],
    'only the gateway span points outside: at the caller',
  )
})
