// Issue 12.2 (trace ingest): every worker's env held SWITCHYARD_TRACES_TOKEN, a
// full-privilege gateway token: any graph could read every run and write into any
// trace. A pool now gets an ingest credential that writes spans into its own project
// and does nothing else, and no gateway token reaches a worker's env.
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { loadRegistry } from '../../src/control/index.js'
import { request } from 'node:http'
import { MemoryBroker } from '../../src/data/broker/memory/index.js'
import { ingestToken, newIngestSecret, parseTokensFile, startGateway } from '../../src/gateway/index.js'
import { tokenDigest } from '../../src/gateway/tokens-file.js'
import { spawnDev } from '../cli/dev-process.js'
import { eventually } from '../helpers/eventually.js'
import { get, post, startFixture, writeRegistry, type Fixture } from '../gateway/fixture.js'
import { otlpJson, postSpans } from './otlp-export.js'

const ADMIN = 'admin-token-for-ingest-tests'
const secret = newIngestSecret()
const emailCredential = ingestToken(secret, 'email')

let fx: Fixture
let traceDir: string
before(async () => {
  traceDir = mkdtempSync(join(tmpdir(), 'switchyard-ingest-'))
  fx = await startFixture({ tokens: [ADMIN], ingestSecret: secret, traceDir })
})
after(async () => {
  await fx.close()
  rmSync(traceDir, { recursive: true, force: true })
})

const traceCount = async () =>
  ((await get(`${fx.url}/v1/traces?limit=1000`, { authorization: `Bearer ${ADMIN}` })).body as { runs: unknown[] }).runs.length

/** A run span, as a worker of `pool` exports it. */
const runSpan = (project: string, service = 'switchyard-pool-email', workflow = 'echo.say') =>
  otlpJson([
    { service, project, spans: [{ name: `run ${workflow}`, attributes: { 'switchyard.workflow': workflow, 'switchyard.pool': 'email' } }] },
  ])

void test("a pool's credential writes spans into its own pool's project", async () => {
  const before = await traceCount()
  assert.deepEqual(await postSpans(fx.url, runSpan('sales-email'), emailCredential), { status: 200 })
  assert.equal(await traceCount(), before + 1)
})

void test("it cannot write into another pool's project, the shared one, or a made-up one: the whole export is refused", async () => {
  const before = await traceCount()
  const attempts = [
    runSpan('held'),
    runSpan('quiet', 'switchyard-pool-quiet'),
    // One good span does not carry a bad one through.
    otlpJson([
      { service: 'switchyard-pool-email', project: 'sales-email', spans: [{ name: 'run echo.say' }] },
      { service: 'switchyard-pool-email', spans: [{ name: 'node x', project: 'held' }] },
    ]),
    // A project the registry does not name is filed under the shared `_other`, which pools may not write.
    runSpan('made-up-project'),
    otlpJson([{ service: 'switchyard-pool-email', spans: [{ name: 'no project at all' }] }]),
  ]
  for (const body of attempts) {
    const res = await postSpans(fx.url, body, emailCredential)
    assert.equal(res.status, 403, res.detail)
    assert.equal(res.code, 'FORBIDDEN')
    assert.match(res.detail ?? '', /may not write spans into project/)
  }
  assert.equal(await traceCount(), before)
})

void test('it cannot read runs, traces, workflows or metrics, nor run a workflow', async () => {
  const headers = { authorization: `Bearer ${emailCredential}` }
  const seeded = await post(`${fx.url}/v1/workflows/echo.say/run`, { text: 'x' }, { authorization: `Bearer ${ADMIN}` })
  const runId = seeded.headers.get('x-switchyard-run-id') ?? ''
  for (const path of ['/v1/runs', `/v1/runs/${runId}`, '/v1/traces', '/v1/traces/0123456789abcdef0123456789abcdef', '/metrics']) {
    const res = await get(`${fx.url}${path}`, headers)
    assert.equal(res.status, 403, path)
    assert.equal((res.body as { code: string }).code, 'FORBIDDEN')
  }
  assert.deepEqual(((await get(`${fx.url}/v1/workflows`, headers)).body as { workflows: unknown[] }).workflows, [])
  assert.equal((await get(`${fx.url}/v1/workflows/echo.say`, headers)).status, 403)
  const run = await post(`${fx.url}/v1/workflows/echo.say/run`, { text: 'x' }, headers)
  assert.equal(run.status, 403)
})

void test("a pool's credential cannot forge another pool's runs into its own project, nor a caller's token into the shared one", async () => {
  // The run list and the read scopes go by a span's workflow and pool: before this, the email
  // pool's credential filed a 'run held.wait' span (pool held) in its own project, and a token
  // that may run only quiet.say filed a server span of echo.say in `_other`; a reader of held
  // or of echo.say then listed those forged runs as real ones.
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-ingest-claims-'))
  const scoped = await startFixture({
    tokens: parseTokensFile('admin-claims-token admin\nquiet-runner-token run workflows=quiet.say\n', 'tokens'),
    ingestSecret: secret,
    traceDir: dir,
  })
  const admin = { authorization: 'Bearer admin-claims-token' }
  const listed = async () =>
    ((await get(`${scoped.url}/v1/traces?limit=1000`, admin)).body as { runs: { workflow: string; pool: string | null }[] }).runs
  try {
    const run = (workflow: string, pool: string | undefined, project: string, service = 'switchyard-pool-email') =>
      otlpJson([
        {
          service,
          project,
          spans: [
            { name: `run ${workflow}`, attributes: { 'switchyard.workflow': workflow, ...(pool ? { 'switchyard.pool': pool } : {}) } },
          ],
        },
      ])
    const forged = [
      run('held.wait', 'held', 'sales-email'), // another pool's workflow and pool
      run('held.wait', undefined, 'sales-email'), // another pool's workflow alone
      run('echo.say', 'held', 'sales-email'), // its own workflow, another pool
      run('not.registered', 'email', 'sales-email'), // a workflow the registry does not have
      otlpJson([{ service: 'switchyard-pool-held', project: 'sales-email', spans: [{ name: 'node x' }] }]).replace(
        '"attributes":[{"key":"service.name"',
        '"attributes":[{"key":"switchyard.pool","value":{"stringValue":"held"}},{"key":"service.name"',
      ), // the resource's pool claim
    ]
    for (const body of forged) {
      const res = await postSpans(scoped.url, body, emailCredential)
      assert.equal(res.status, 403, res.detail)
      assert.equal(res.code, 'FORBIDDEN')
      assert.match(res.detail ?? '', /may not write spans of/)
    }
    const runner = 'quiet-runner-token'
    const server = (workflow: string) =>
      otlpJson([{ service: 'switchyard-cli', spans: [{ name: `run ${workflow}`, attributes: { 'switchyard.workflow': workflow } }] }])
    for (const workflow of ['echo.say', 'held.wait'])
      assert.equal((await postSpans(scoped.url, server(workflow), runner)).status, 403, workflow)
    assert.deepEqual(await listed(), [], 'no forged run was stored')
    // What each may claim still passes: the pool's own runs, the caller's own workflow.
    assert.deepEqual(await postSpans(scoped.url, run('echo.say', 'email', 'sales-email'), emailCredential), { status: 200 })
    assert.deepEqual(await postSpans(scoped.url, server('quiet.say'), runner), { status: 200 })
    assert.deepEqual((await listed()).map((r) => r.workflow).sort(), ['echo.say', 'quiet.say'])
  } finally {
    await scoped.close()
    rmSync(dir, { recursive: true, force: true })
  }
})

void test("a credential cannot be turned into another pool's, nor minted without the gateway's secret", async () => {
  const mac = emailCredential.split('.').at(-1) ?? ''
  for (const forged of [
    `ingest.held.${mac}`,
    ingestToken(newIngestSecret(), 'held'),
    `ingest.email.${mac.slice(0, -1)}${mac.endsWith('A') ? 'B' : 'A'}`,
    'ingest.email.',
  ]) {
    const res = await postSpans(fx.url, runSpan('held'), forged)
    assert.equal(res.status, 401, forged)
  }
})

void test('an open gateway that mints credentials still keeps pool projects to their pools', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-ingest-open-'))
  const open = await startFixture({ tokens: null, ingestSecret: secret, traceDir: dir })
  try {
    assert.equal((await postSpans(open.url, runSpan('sales-email'))).status, 403)
    assert.equal((await postSpans(open.url, runSpan('sales-email'), emailCredential)).status, 200)
    // Callers' own spans (no registry project) go to the shared project: `switchyard run --trace` keeps its client span.
    const client = otlpJson([{ service: 'switchyard-cli', spans: [{ name: 'client run echo.say' }] }])
    assert.equal((await postSpans(open.url, client)).status, 200)
    assert.equal((await postSpans(open.url, client, emailCredential)).status, 403)
  } finally {
    await open.close()
    rmSync(dir, { recursive: true, force: true })
  }
})

void test("after a registry reload (dev --watch), a new pool's credential writes its new project, and only that", async () => {
  const extra = ingestToken(secret, 'extra')
  const extraSpan = otlpJson([{ service: 'switchyard-pool-extra', project: 'extra-project', spans: [{ name: 'run x' }] }])
  // Before the reload the pool does not exist: its credential writes nowhere.
  assert.equal((await postSpans(fx.url, extraSpan, extra)).status, 403)
  const file = join(fx.dir, 'switchyard.yaml')
  writeFileSync(file, readFileSync(file, 'utf8').replace('pools:\n', 'pools:\n  extra:\n    tracing: { project: extra-project }\n'))
  fx.gateway.reload(loadRegistry(file))
  try {
    assert.deepEqual(await postSpans(fx.url, extraSpan, extra), { status: 200 })
    assert.ok(readdirSync(traceDir).includes('extra-project'), 'the new project is a folder of its own, not the shared one')
    assert.equal((await postSpans(fx.url, runSpan('sales-email'), extra)).status, 403)
  } finally {
    fx.gateway.reload(fx.registry)
  }
})

/** Two node pools on `switchyard dev`. */
function project(): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'switchyard-ingest-dev-')))
  mkdirSync(join(dir, 'graphs'))
  writeFileSync(join(dir, 'graphs/echo.ts'), 'export function graph() {\n  return (input: unknown) => ({ echo: input })\n}\n')
  writeFileSync(join(dir, 'email.env'), 'EMAIL_API_KEY=only-for-email\n')
  writeFileSync(
    join(dir, 'switchyard.yaml'),
    `version: 1
pools:
  email:
    env: email.env
    tracing: { project: sales-email }
  other: {}
workflows:
  email.echo: { pool: email, graph: graphs/echo.ts#graph, input: { type: object }, description: Echo. }
  other.echo: { pool: other, graph: graphs/echo.ts#graph, input: { type: object }, description: Echo. }
`,
  )
  return dir
}

function environ(pid: number): Record<string, string> {
  const text = readFileSync(`/proc/${pid}/environ`, 'utf8')
  return Object.fromEntries(
    text
      .split('\0')
      .filter(Boolean)
      .map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]),
  )
}

void test("switchyard dev: a worker's env holds its pool's ingest credential and no gateway token, and that credential is ingest-only", async () => {
  const dir = project()
  const dev = spawnDev(['--config', 'switchyard.yaml', '--port', '0'], dir, {
    SWITCHYARD_TOKENS: ADMIN,
    SWITCHYARD_SIGNING_KEY: '',
    OTEL_BSP_SCHEDULE_DELAY: '50',
  })
  try {
    const url = await eventually('the gateway URL', () => /gateway (http:\/\/\S+) ·/.exec(dev.text)?.[1])
    const pids = await eventually('a worker of each pool', () => {
      const found = new Map([...dev.text.matchAll(/\[(email|other) (\d+)\]/g)].map((m) => [m[1] as string, Number(m[2])]))
      return found.size === 2 ? found : undefined
    })
    const emailEnv = environ(pids.get('email')!)
    const otherEnv = environ(pids.get('other')!)
    for (const [pool, env] of [
      ['email', emailEnv],
      ['other', otherEnv],
    ] as const) {
      assert.match(env.SWITCHYARD_TRACES_TOKEN ?? '', new RegExp(`^ingest\\.${pool}\\.[A-Za-z0-9_-]{43}$`))
      assert.equal(env.SWITCHYARD_TOKENS, undefined)
      assert.equal(env.SWITCHYARD_INGEST_SECRET, undefined)
      assert.ok(!Object.values(env).some((value) => value.includes(ADMIN)), `${pool}: a gateway token in the env`)
    }
    assert.equal(otherEnv.EMAIL_API_KEY, undefined)

    // The email worker's own credential, as a hostile graph in that pool would use it.
    const stolen = { authorization: `Bearer ${emailEnv.SWITCHYARD_TRACES_TOKEN}` }
    const admin = { authorization: `Bearer ${ADMIN}` }
    // A worker's pid is printed before it is connected: wait until every pool has a live worker.
    await eventually('every pool ready', async () => (await get(`${url}/readyz`)).status === 200)
    const run = await post(`${url}/v1/workflows/email.echo/run`, { a: 1 }, admin)
    assert.equal(run.status, 200)
    const runId = run.headers.get('x-switchyard-run-id') ?? ''
    const traceId = run.headers.get('x-switchyard-trace-id') ?? ''
    assert.equal((await get(`${url}/v1/runs/${runId}`, stolen)).status, 403)
    assert.equal((await get(`${url}/v1/runs`, stolen)).status, 403)
    assert.equal((await get(`${url}/v1/traces/${traceId}`, stolen)).status, 403)
    assert.equal((await post(`${url}/v1/workflows/email.echo/run`, {}, stolen)).status, 403)
    assert.equal((await post(`${url}/v1/workflows/other.echo/run`, {}, stolen)).status, 403)
    assert.equal((await postSpans(url, runSpan('other', 'switchyard-pool-other'), emailEnv.SWITCHYARD_TRACES_TOKEN)).status, 403)
    const ownRun = runSpan('sales-email', 'switchyard-pool-email', 'email.echo')
    assert.equal((await postSpans(url, ownRun, emailEnv.SWITCHYARD_TRACES_TOKEN)).status, 200)
    // And the workers' real exports, with those credentials, arrive: the run's tree has its worker span.
    await eventually('the worker span of the run', async () => {
      const res = await get(`${url}/v1/traces/${traceId}`, admin)
      return res.status === 200 && (res.body as { spans: { name: string }[] }).spans.some((s) => s.name === 'run email.echo')
    })
  } finally {
    await dev.stop()
    rmSync(dir, { recursive: true, force: true })
  }
})

void test('a token that may write spans nowhere (a reader) is refused before its export is read: no gunzip, no decode, no waiting for the body', async () => {
  const { registry, dir } = writeRegistry()
  const broker = new MemoryBroker({ pools: registry.pools.values() })
  const folder = mkdtempSync(join(tmpdir(), 'switchyard-ingest-reader-'))
  const gateway = await startGateway({
    registry,
    broker,
    port: 0,
    signingKey: null,
    traceDir: folder,
    tokens: [
      { digest: tokenDigest('reader'), grant: { name: 'reader', roles: ['read'] } },
      { digest: tokenDigest('runner'), grant: { name: 'runner', roles: ['run'], workflows: ['echo.say'] } },
    ],
  })
  const send = (token: string, body: string) =>
    fetch(`${gateway.url}/v1/traces`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body,
    })
  try {
    // Not gzip at all: decoding it would be a 400; refused first, it is a 403.
    const garbage = 'this is not gzip'
    const refused = await send('reader', garbage)
    assert.equal(refused.status, 403)
    assert.match(await refused.text(), /may not write spans/)
    // A token that may write (its own spans into the shared project) gets as far as the decoding.
    assert.equal((await send('runner', garbage)).status, 400)
    // A body that never ends: the answer comes anyway, before the body does.
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${gateway.url}/v1/traces`, {
        method: 'POST',
        headers: { authorization: 'Bearer reader', 'content-type': 'application/json', 'content-length': 10 * 1024 * 1024 },
      })
      req.on('response', (res) => {
        res.resume()
        resolve(res.statusCode ?? 0)
        req.destroy()
      })
      req.on('error', reject)
      req.write('{"resourceSpans":[')
    })
    assert.equal(status, 403)
  } finally {
    await gateway.close()
    await broker.close()
    rmSync(folder, { recursive: true, force: true })
    rmSync(dir, { recursive: true, force: true })
  }
})
