// `switchyard run` and `switchyard gateway` as a person uses them: real processes,
// what they print, and their exit codes.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { after, before, test } from 'node:test'
import { generateSigningKey, writeSigningKeyFile } from '../../src/data/index.js'
import { parseTokensFile } from '../../src/gateway/index.js'
import { initTracing, type Tracing } from '../../src/observe/index.js'
import { startFixture, type Fixture } from '../gateway/fixture.js'
import { redisSkip, startRedis } from '../helpers/redis.js'

const MAIN = resolve(import.meta.dirname, '../../src/cli/main.ts')
const ENTRY = `const { main } = await import(${JSON.stringify(MAIN)}); await main(process.argv.slice(1))`

interface Result {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

interface Running {
  /** Resolve with the first match of `pattern` in stdout (bounded). */
  waitFor(pattern: RegExp): Promise<RegExpExecArray>
  /** SIGTERM, then the exit code and output. */
  stop(): Promise<Result>
  readonly exited: Promise<Result>
}

function spawnCli(args: string[], env: Record<string, string> = {}): Running {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', ENTRY, '--', ...args], {
    env: { ...process.env, NO_COLOR: '1', SWITCHYARD_URL: '', SWITCHYARD_TOKEN: '', SWITCHYARD_TOKENS: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
  const exited = new Promise<Result>((done) =>
    child.once('exit', (code) => {
      clearTimeout(timer)
      done({ code, stdout, stderr })
    }),
  )
  return {
    exited,
    async waitFor(pattern) {
      for (let i = 0; i < 300; i++) {
        const match = pattern.exec(stdout)
        if (match) return match
        if (child.exitCode !== null) break
        await new Promise((r) => setTimeout(r, 50))
      }
      throw new Error(`no ${pattern} in the output of switchyard ${args.join(' ')}:\n${stdout}\n${stderr}`)
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM')
      return exited
    },
  }
}

/** Run the CLI to completion (killed after 30 s). */
function cli(args: string[], env: Record<string, string> = {}): Promise<Result> {
  return spawnCli(args, env).exited
}

let fx: Fixture
let tracing: Tracing
let dir: string
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'switchyard-cli-'))
  fx = await startFixture({ traceDir: join(dir, 'traces') })
  // This process plays `switchyard dev`: gateway and worker export to the gateway's store.
  // Batches every ten minutes: a tree `run --trace` draws whole got there by the forced run's flushes.
  tracing = initTracing({
    service: 'switchyard-gateway',
    env: { SWITCHYARD_TRACES_URL: fx.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_BSP_SCHEDULE_DELAY: '600000' },
  })
})
after(async () => {
  await tracing.shutdown()
  await fx.close()
  rmSync(dir, { recursive: true, force: true })
})

void test('switchyard run prints the output; @file input; --trace draws the run tree with the CLI span at its root', async () => {
  const file = join(dir, 'input.json')
  writeFileSync(file, JSON.stringify({ text: 'from a file', shout: true }))
  const result = await cli(['run', 'echo.say', '--input', `@${file}`, '--url', fx.url, '--trace', '--wait', '20'])
  assert.equal(result.code, 0, result.stderr)
  assert.equal(result.stderr, '')
  const [json, ...tree] = result.stdout.split('\n}\n')
  assert.deepEqual(JSON.parse(`${json}\n}`), { said: 'FROM A FILE' })
  const drawn = tree.join('\n')
  for (const name of ['client run echo.say', 'POST /v1/workflows/{name}/run', 'route echo.say', 'enqueue email', 'run echo.say']) {
    assert.ok(drawn.includes(name), `'${name}' missing from the tree:\n${drawn}`)
  }
  assert.ok(
    drawn.indexOf('client run echo.say') < drawn.indexOf('run echo.say\n') ||
      drawn.indexOf('client run') < drawn.lastIndexOf('run echo.say'),
  )
})

void test('switchyard run: an invalid input prints the code, the paths and the ids, and exits 1', async () => {
  const result = await cli(['run', 'echo.say', '--input', '{"text": 5}', '--url', fx.url])
  assert.equal(result.code, 1)
  assert.equal(result.stdout, '')
  assert.match(
    result.stderr,
    /^switchyard run: INVALID_INPUT: invalid input for 'echo.say': \/text: must be string \(HTTP 422\)\n {2}\/text: must be string\n {2}trace [0-9a-f]{32}\n$/,
  )
  const bad = await cli(['run', 'echo.say', '--input', '{oops', '--url', fx.url])
  assert.equal(bad.code, 1)
  assert.match(bad.stderr, /^switchyard run: --input is not valid JSON: /)
})

void test('switchyard runs lists untraced and dead-lettered runs from the broker; --traced only sampled ones; a bad status is named', async () => {
  const post = (name: string) =>
    fetch(`${fx.url}/v1/workflows/${name}/run`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } })
  const untraced = (await post('quiet.say')).headers.get('x-switchyard-run-id') ?? ''
  const failed = (await post('echo.fail')).headers.get('x-switchyard-run-id') ?? ''
  const listed = await cli(['runs', '--url', fx.url, '--pool', 'quiet'])
  assert.equal(listed.code, 0, listed.stderr)
  const [header, row, ...rest] = listed.stdout.split('\n')
  assert.match(header ?? '', /^CREATED {18}WORKFLOW +POOL +STATUS +ATTEMPTS +DURATION +RUN +TRACE$/)
  assert.match(
    row ?? '',
    new RegExp(
      `^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{3}  quiet\\.say +quiet +succeeded +1/1 +\\S+ ms +${untraced}  [0-9a-f]{32}$`,
    ),
  )
  assert.deepEqual(rest, [''])

  const dead = await cli(['runs', '--url', fx.url, '--workflow', 'echo.fail', '--status', 'failed', '--limit', '1'])
  assert.match(
    dead.stdout,
    new RegExp(`  echo\\.fail +email +failed \\(GRAPH_FAILED, dead-lettered\\) +1/1 .* ${failed}  [0-9a-f]{32}\\n$`),
  )

  const traced = await cli(['runs', '--traced', '--url', fx.url, '--pool', 'quiet'])
  assert.equal(traced.stdout, 'no traced runs match (runs appear here once their spans are exported; unsampled runs never do)\n')

  const bad = await cli(['runs', '--url', fx.url, '--status', 'done'])
  assert.equal(bad.code, 1)
  assert.equal(bad.stderr, "switchyard runs: 400 BAD_REQUEST: unknown status 'done': use queued, running, succeeded, failed, cancelled\n")
})

void test('switchyard gateway refuses to start without tokens unless --no-auth', async () => {
  const refused = await cli(['gateway', '--redis', 'redis://127.0.0.1:1', '--config', fx.registry.source])
  assert.equal(refused.code, 1)
  assert.equal(
    refused.stderr,
    'switchyard gateway: refusing to start without auth: set SWITCHYARD_TOKENS (comma-separated) or --tokens-file FILE, or pass --no-auth to run open\n',
  )
})

void test('switchyard gateway serves on Redis with SWITCHYARD_TOKENS, and stops on SIGTERM', { skip: redisSkip() }, async () => {
  const redis = await startRedis()
  const traceDir = join(dir, 'gateway-traces')
  const keyFile = join(dir, 'gateway.key')
  const key = generateSigningKey()
  writeSigningKeyFile(keyFile, key)
  const gateway = spawnCli(['gateway', '--redis', redis.url, '--config', fx.registry.source, '--port', '0', '--trace-dir', traceDir], {
    SWITCHYARD_TOKENS: 'one,two',
    SWITCHYARD_SIGNING_KEY_FILE: keyFile,
  })
  try {
    const [, url] = await gateway.waitFor(/switchyard gateway: (http:\/\/\S+) on Redis/)
    await gateway.waitFor(/2 bearer tokens accepted/)
    await gateway.waitFor(new RegExp(`envelopes signed with ${keyFile} \\(key ${key.id}\\)`))
    assert.equal((await fetch(`${url}/v1/workflows`)).status, 401)
    const auth = { authorization: 'Bearer two' }
    const listed = await fetch(`${url}/v1/workflows`, { headers: auth })
    assert.equal(listed.status, 200)
    assert.equal(((await listed.json()) as { workflows: unknown[] }).workflows.length, fx.registry.workflows.size)
    // Its own spans reach its own store, through its own auth.
    const accepted = await fetch(`${url}/v1/workflows/echo.say/run`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json', prefer: 'respond-async' },
      body: '{"text":"queued on redis"}',
    })
    assert.equal(accepted.status, 202)
    const traceId = accepted.headers.get('x-switchyard-trace-id') ?? ''
    // The three spans end at different moments and may reach the store in different batches
    // (every 5 s, the SDK's default delay): wait for all, within a bound.
    let spans: string[] = []
    for (const deadline = Date.now() + 30_000; Date.now() < deadline && spans.length < 3;) {
      const stored = await fetch(`${url}/v1/traces/${traceId}`, { headers: auth })
      if (stored.status === 200) spans = ((await stored.json()) as { spans: Array<{ name: string }> }).spans.map((s) => s.name).sort()
      else await stored.text()
      if (spans.length < 3) await new Promise((r) => setTimeout(r, 200))
    }
    assert.deepEqual(spans, ['POST /v1/workflows/{name}/run', 'enqueue email', 'route echo.say'])
    const result = await gateway.stop()
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stdout, /switchyard gateway: stopping\n$/)
  } finally {
    await gateway.stop()
    await redis.stop()
  }
})

// After the `runs` test: these leave runs (one traced) in the quiet pool.
void test('switchyard run --trace forces the trace of a run its pool would not sample', async () => {
  // The quiet pool keeps no run (sampleRate 0); this gateway is open, so --trace may force.
  const result = await cli(['run', 'quiet.say', '--url', fx.url, '--trace', '--wait', '20'])
  assert.equal(result.code, 0, result.stderr)
  assert.equal(result.stderr, '')
  for (const name of ['client run quiet.say', 'POST /v1/workflows/{name}/run', 'route quiet.say', 'enqueue quiet', 'run quiet.say']) {
    assert.ok(result.stdout.includes(name), `'${name}' missing from the tree:\n${result.stdout}`)
  }
})

void test('switchyard run --trace says at once when the gateway did not keep the run, and draws no tree', async () => {
  // A token that may run and read, but not force a trace (only admin may, behind tokens).
  const tokens = parseTokensFile('s3cret-runner run,read\n', 'tokens')
  const guarded = await startFixture({ tokens, traceDir: join(dir, 'guarded-traces') })
  try {
    const result = await cli(['run', 'quiet.say', '--url', guarded.url, '--token', 's3cret-runner', '--trace'])
    assert.equal(result.code, 0, result.stderr)
    assert.equal(result.stdout, '{}\n')
    assert.match(result.stderr, /^switchyard run: the gateway did not keep trace [0-9a-f]{32}, so there is no run tree to draw\./)
    assert.match(result.stderr, /sampleRate/)
  } finally {
    await guarded.close()
  }
})
