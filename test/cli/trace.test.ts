import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { ATTR, GENAI, SERVICE } from '../../src/control/index.js'
import { ingestToken, newIngestSecret, parseTokensFile } from '../../src/gateway/index.js'
import { FileTraceStore, StoreSpanExporter, initTracing, type StoredSpan } from '../../src/observe/index.js'
import { post, startFixture } from '../gateway/fixture.js'
import { freePort } from '../helpers/redis.js'
import { startObserveServer } from '../observe/observe-server.js'
import { otlpJson, postSpans } from '../security/otlp-export.js'

const exec = promisify(execFile)

/** `switchyard <args>` through the real CLI entry (TypeScript via tsx). */
async function switchyard(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const script = `import('./src/cli/main.ts').then((m) => m.main(${JSON.stringify(args)}))`
  try {
    const { stdout, stderr } = await exec(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      env: { ...process.env, NO_COLOR: '1', SWITCHYARD_URL: '', SWITCHYARD_TOKEN: '' },
      timeout: 30_000,
    })
    return { code: 0, stdout, stderr }
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string }
    return { code: e.code, stdout: e.stdout, stderr: e.stderr }
  }
}

const traceId = '4bf92f3577b34da6a3ce929d0e0e4736'
const span = (over: Partial<StoredSpan> & Pick<StoredSpan, 'spanId' | 'name' | 'start' | 'end'>): StoredSpan => ({
  traceId,
  parentSpanId: null,
  kind: 'internal',
  service: 'switchyard-pool-email',
  project: 'sales-email',
  status: 'ok',
  attributes: {},
  resource: {},
  ...over,
})

void test('switchyard trace draws the stored tree; switchyard runs lists the run; errors read plainly', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-cli-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const store = await FileTraceStore.open(dir)
  const server = await startObserveServer(store)
  t.after(server.close)
  const start = Date.parse('2026-11-24T07:00:00.000Z')
  await store.add([
    span({
      spanId: '1'.repeat(16),
      name: 'POST /v1/workflows/{name}/run',
      kind: 'server',
      service: 'switchyard-gateway',
      start,
      end: start + 52,
      attributes: { [ATTR.workflow]: 'email.compose', [ATTR.pool]: 'email', 'http.response.status_code': 200 },
    }),
    span({
      spanId: '2'.repeat(16),
      parentSpanId: '1'.repeat(16),
      name: 'run email.compose',
      kind: 'consumer',
      start: start + 2,
      end: start + 50,
      attributes: { [ATTR.workflow]: 'email.compose', [ATTR.runId]: 'r1' },
    }),
    span({
      spanId: '3'.repeat(16),
      parentSpanId: '2'.repeat(16),
      name: 'chat offline',
      kind: 'client',
      start: start + 3,
      end: start + 49,
      attributes: { [GENAI.inputTokens]: 10, [GENAI.outputTokens]: 20, [ATTR.costUsd]: 0 },
    }),
  ])

  const traced = await switchyard(['trace', traceId, '--url', server.url])
  assert.equal(traced.code, 0, traced.stderr)
  assert.equal(
    traced.stdout,
    [
      `trace ${traceId} · 3 spans · 2 services · 52.0 ms · tokens 10 in / 20 out · ok`,
      'POST /v1/workflows/{name}/run  [switchyard-gateway]  52.0 ms  ✓',
      '└─ run email.compose  [switchyard-pool-email]  48.0 ms  ✓',
      '   └─ chat offline  46.0 ms  ✓  tokens 10→20  $0.000000',
      '',
    ].join('\n'),
  )

  const runs = await switchyard(['runs', '--traced', '--url', server.url, '--workflow', 'email.compose'])
  assert.equal(runs.code, 0, runs.stderr)
  assert.equal(
    runs.stdout,
    [
      'STARTED                  WORKFLOW       POOL   STATUS     DURATION  TRACE',
      `2026-11-24 07:00:00.000  email.compose  email  succeeded  52.0 ms   ${traceId}`,
      '',
    ].join('\n'),
  )

  const unknown = await switchyard(['trace', 'f'.repeat(32), '--url', server.url, '--wait', '0'])
  assert.equal(unknown.code, 1)
  assert.equal(
    unknown.stderr,
    `switchyard trace: 404 NOT_FOUND: no spans stored for trace ${'f'.repeat(32)}: it was not sampled, its spans are not exported yet, or it expired\n`,
  )
  // Waiting (bounded) for a trace that never comes ends with the same error, and says how long it waited.
  const never = await switchyard(['trace', 'f'.repeat(32), '--url', server.url, '--wait', '0.3'])
  assert.equal(never.code, 1)
  assert.match(never.stderr, /no spans stored for trace f{32}: .* \(waited 0\.3 s\)\n$/)
  const badStatus = await switchyard(['runs', '--traced', '--url', server.url, '--status', 'done'])
  assert.equal(badStatus.stderr, "switchyard runs: 400 BAD_REQUEST: status must be 'succeeded' or 'failed', got 'done'\n")
  const port = await freePort()
  const down = await switchyard(['runs', '--url', `http://127.0.0.1:${port}`])
  assert.equal(
    down.stderr,
    `switchyard runs: cannot reach the gateway at http://127.0.0.1:${port} (ECONNREFUSED); start it with 'npx switchyard dev' or pass --url\n`,
  )
})

void test("switchyard trace --project shows a pool's own spans that a run's trace leaves out, to that pool's readers only", async (t) => {
  // A real gateway with its spans in its store (as `dev` and `start` run it), tokens with scopes.
  const traceDir = mkdtempSync(join(tmpdir(), 'switchyard-cli-project-'))
  const secret = newIngestSecret()
  const tokens = 'email-runner-token run workflows=echo.say\nemail-reader-token read pools=email\nquiet-reader-token read pools=quiet\n'
  const fx = await startFixture({ tokens: parseTokensFile(tokens, 'tokens'), ingestSecret: secret, traceDir })
  const tracing = initTracing({ service: SERVICE.gateway, env: {}, exporter: new StoreSpanExporter(fx.gateway.traceStore!) })
  t.after(async () => {
    await tracing.shutdown()
    await fx.close()
    rmSync(traceDir, { recursive: true, force: true })
  })
  const run = await post(`${fx.url}/v1/workflows/echo.say/run`, { text: 'hi' }, { authorization: 'Bearer email-runner-token' })
  assert.equal(run.status, 200)
  const traced = run.headers.get('x-switchyard-trace-id') ?? ''
  await tracing.forceFlush()
  // The quiet pool, with its own credential, exports a span under that run's trace id:
  // stored in its project, kept out of the run's trace.
  const stray = otlpJson([{ service: 'switchyard-pool-quiet', project: 'quiet', spans: [{ name: 'quiet aside', traceId: traced }] }])
  assert.equal((await postSpans(fx.url, stray, ingestToken(secret, 'quiet'))).status, 200)

  const whole = await switchyard(['trace', traced, '--url', fx.url, '--token', 'email-reader-token', '--json'])
  assert.equal(whole.code, 0, whole.stderr)
  assert.doesNotMatch(whole.stdout, /quiet aside/)
  assert.match(whole.stdout, /run echo\.say/)

  const aside = await switchyard(['trace', traced, '--project', 'quiet', '--url', fx.url, '--token', 'quiet-reader-token'])
  assert.equal(aside.code, 0, aside.stderr)
  assert.equal(
    aside.stdout.split('\n')[1]?.replace(/\d+(\.\d+)? (ms|µs)/, 'N ms'),
    'quiet aside  [switchyard-pool-quiet]  N ms  ✓',
    aside.stdout,
  )
  assert.doesNotMatch(aside.stdout, /run echo\.say/)

  // Another pool's reader may not read that project; a project with nothing under the id is a 404.
  const refused = await switchyard(['trace', traced, '--project', 'quiet', '--url', fx.url, '--token', 'email-reader-token'])
  assert.equal(refused.code, 1)
  assert.equal(refused.stderr, "switchyard trace: 403 FORBIDDEN: this token may not read project 'quiet'\n")
  const empty = await switchyard(['trace', 'f'.repeat(32), '--project', 'quiet', '--url', fx.url, '--token', 'quiet-reader-token'])
  assert.equal(empty.code, 1)
  assert.match(empty.stderr, new RegExp(`404 NOT_FOUND: no spans stored for trace ${'f'.repeat(32)} in project 'quiet'`))
})

void test('switchyard trace right after a run waits until the trace is whole; past --wait it draws what is stored and names the gap', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-cli-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const store = await FileTraceStore.open(dir)
  const server = await startObserveServer(store)
  t.after(server.close)
  const id = 'a'.repeat(32)
  const start = Date.now()
  // The gateway's spans are stored; the worker's batch is not there yet.
  await store.add([
    span({
      traceId: id,
      spanId: '1'.repeat(16),
      name: 'POST /v1/workflows/{name}/run',
      kind: 'server',
      service: 'switchyard-gateway',
      start,
      end: start + 40,
    }),
    span({
      traceId: id,
      spanId: '2'.repeat(16),
      parentSpanId: '1'.repeat(16),
      name: 'enqueue email',
      kind: 'producer',
      service: 'switchyard-gateway',
      start,
      end: start + 1,
    }),
  ])

  const partial = await switchyard(['trace', id, '--url', server.url, '--wait', '0.3'])
  assert.equal(partial.code, 0, partial.stderr)
  assert.match(partial.stdout, /└─ enqueue email/)
  assert.match(
    partial.stderr,
    new RegExp(`trace ${id} is not whole after 0.3 s; drawn as stored. Missing:\n  - 'enqueue email' has no run span yet`),
  )

  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      `import('./src/cli/main.ts').then((m) => m.main(${JSON.stringify(['trace', id, '--url', server.url, '--wait', '60'])}))`,
    ],
    { env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
  // Once it says it waits, the worker's batch arrives: it draws the whole tree and says nothing more.
  await new Promise<void>((resolve) =>
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
      if (stderr.includes('not whole yet')) resolve()
    }),
  )
  await store.add([
    span({
      traceId: id,
      spanId: '3'.repeat(16),
      parentSpanId: '2'.repeat(16),
      name: 'run echo.say',
      kind: 'consumer',
      start: start + 2,
      end: start + 30,
    }),
  ])
  assert.equal(await exited, 0, stderr)
  assert.equal(stderr, `switchyard trace: trace ${id} is not whole yet; waiting up to 60 s…\n`)
  assert.match(stdout, /└─ enqueue email .*\n {3}└─ run echo\.say/)
})
