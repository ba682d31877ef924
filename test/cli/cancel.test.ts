// `switchyard cancel RUN_ID` as a person uses it: a real process against a real gateway,
// what it prints and its exit code.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { resolve } from 'node:path'
import { after, before, test } from 'node:test'

import { post, startFixture, type Fixture } from '../gateway/fixture.js'

const MAIN = resolve(import.meta.dirname, '../../src/cli/main.ts')
const ENTRY = `const { main } = await import(${JSON.stringify(MAIN)}); await main(process.argv.slice(1))`

/** The CLI in a process of its own (asynchronously: the gateway it talks to lives in this one). */
function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', ENTRY, '--', ...args], {
    env: { ...process.env, NO_COLOR: '1', SWITCHYARD_URL: '', SWITCHYARD_TOKEN: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
  return new Promise((done) =>
    child.once('exit', (code) => {
      clearTimeout(timer)
      done({ code, stdout, stderr })
    }),
  )
}

let fx: Fixture
before(async () => {
  fx = await startFixture()
})
after(async () => {
  await fx.close()
})

void test('switchyard cancel: a queued run is cancelled (exit 0), and again (idempotent)', async () => {
  const queued = await post(`${fx.url}/v1/workflows/held.wait/run`, {}, { prefer: 'respond-async' })
  const runId = queued.headers.get('x-switchyard-run-id') ?? ''
  const first = await cli(['cancel', runId, '--url', fx.url])
  assert.equal(first.code, 0, first.stderr)
  assert.equal(first.stdout, `run ${runId} (held.wait) is cancelled\n`)
  const again = await cli(['cancel', runId, '--url', fx.url, '--json'])
  assert.equal(again.code, 0, again.stderr)
  assert.equal((JSON.parse(again.stdout) as { status: string }).status, 'cancelled')
  assert.equal((await fx.broker.get(runId))?.status, 'cancelled')
})

void test('switchyard cancel: a finished run is RUN_FINISHED (exit 1); an unknown one UNKNOWN_RUN; no id is a usage error', async () => {
  const done = await post(`${fx.url}/v1/workflows/echo.say/run`, { text: 'done' })
  const runId = done.headers.get('x-switchyard-run-id') ?? ''
  const finished = await cli(['cancel', runId, '--url', fx.url])
  assert.equal(finished.code, 1)
  assert.equal(finished.stderr, `switchyard cancel: RUN_FINISHED: run ${runId} already succeeded: there is nothing to cancel (HTTP 409)\n`)
  const unknown = await cli(['cancel', 'no-such-run', '--url', fx.url])
  assert.equal(unknown.code, 1)
  assert.match(unknown.stderr, /^switchyard cancel: UNKNOWN_RUN: unknown run 'no-such-run' \(HTTP 404\)\n$/)
  assert.equal((await cli(['cancel', '--url', fx.url])).code, 2)
})
