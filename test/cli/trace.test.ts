import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { ATTR, GENAI } from '../../src/control/index.js'
import { FileTraceStore, type StoredSpan } from '../../src/observe/index.js'
import { freePort } from '../helpers/redis.js'
import { startObserveServer } from '../observe/observe-server.js'

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

  const unknown = await switchyard(['trace', 'f'.repeat(32), '--url', server.url])
  assert.equal(unknown.code, 1)
  assert.equal(
    unknown.stderr,
    `switchyard trace: 404 NOT_FOUND: no spans stored for trace ${'f'.repeat(32)}: it was not sampled, its spans are not exported yet, or it expired\n`,
  )
  const badStatus = await switchyard(['runs', '--traced', '--url', server.url, '--status', 'done'])
  assert.equal(badStatus.stderr, "switchyard runs: 400 BAD_REQUEST: status must be 'succeeded' or 'failed', got 'done'\n")
  const port = await freePort()
  const down = await switchyard(['runs', '--url', `http://127.0.0.1:${port}`])
  assert.equal(
    down.stderr,
    `switchyard runs: cannot reach the gateway at http://127.0.0.1:${port} (ECONNREFUSED); start it with 'npx switchyard dev' or pass --url\n`,
  )
})
