// The typed client against a real gateway, broker and worker, with no OpenTelemetry
// SDK in the process (as in a browser or a host that only uses the API).
import assert from 'node:assert/strict'
import { rmSync } from 'node:fs'
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, test } from 'node:test'
import { ROOT_CONTEXT, TraceFlags, propagation, trace } from '@opentelemetry/api'
import { RunFailedError, SwitchyardClientError, createClient } from '../../src/client/index.js'
import { MemoryBroker } from '../../src/data/broker/memory/index.js'
import { createWorker } from '../../src/data/worker/index.js'
import { startGateway } from '../../src/gateway/index.js'
import { SIGNING_KEY, VERIFY_KEYS, startFixture, writeRegistry, type Fixture } from '../gateway/fixture.js'
import { freePort } from '../helpers/redis.js'

interface Workflows {
  'echo.say': { input: { text: string; shout?: boolean }; output: { said: string } }
  'echo.fail': { input: Record<string, never>; output: never }
  'echo.slow': { input: Record<string, never>; output: null }
  'held.wait': { input: Record<string, unknown>; output: { said?: string } }
}

let fx: Fixture
before(async () => {
  fx = await startFixture()
})
after(() => fx.close())

/** fetch that remembers what went out and what came back. */
function recordingFetch() {
  const calls: Array<{ headers: Headers; status: number; responseHeaders: Headers; at: number }> = []
  const fetchImpl: typeof fetch = async (input, init) => {
    const at = Date.now()
    const response = await fetch(input, init)
    calls.push({ headers: new Headers(init?.headers), status: response.status, responseHeaders: response.headers, at })
    return response
  }
  return { calls, fetch: fetchImpl }
}

void test('run returns the flat output; get and workflows read the gateway', async () => {
  const client = createClient<Workflows>({ url: `${fx.url}/` })
  const output = await client.run('echo.say', { text: 'hello', shout: true })
  assert.deepEqual(output, { said: 'HELLO' })
  const accepted = await client.run('echo.say', { text: 'later' }, { async: true })
  assert.equal(accepted.workflow, 'echo.say')
  await fx.broker.wait(accepted.runId, { until: Date.now() + 5000 })
  const done = await client.get(accepted.runId)
  assert.equal(done.status, 'succeeded')
  assert.deepEqual(done.output, { said: 'later' })
  const names = (await client.workflows()).map((w) => w.name)
  assert.ok(names.includes('echo.say'))
})

void test('typed errors: code, status, issues, suggestions, run and trace ids', async () => {
  const client = createClient<Workflows>({ url: fx.url })
  const invalid = await client.run('echo.say', { text: 7 } as never).catch((e: unknown) => e)
  assert.ok(invalid instanceof SwitchyardClientError)
  assert.equal(invalid.code, 'INVALID_INPUT')
  assert.equal(invalid.status, 422)
  assert.equal(invalid.message, "INVALID_INPUT: invalid input for 'echo.say': /text: must be string")
  assert.deepEqual(invalid.issues, [{ path: '/text', message: 'must be string' }])
  assert.match(invalid.traceId ?? '', /^[0-9a-f]{32}$/)

  const untyped = createClient({ url: fx.url })
  const unknown = await untyped.run('echo.sai', {}).catch((e: unknown) => e)
  assert.ok(unknown instanceof SwitchyardClientError)
  assert.deepEqual([unknown.code, unknown.status, unknown.suggestions[0]], ['UNKNOWN_WORKFLOW', 404, 'echo.say'])

  const failed = await client.run('echo.fail', {}).catch((e: unknown) => e)
  assert.ok(failed instanceof RunFailedError)
  assert.equal(failed.code, 'GRAPH_FAILED')
  assert.equal(failed.status, 502)
  assert.equal(failed.message, 'GRAPH_FAILED: the lead has no e-mail address')
  assert.match(failed.runId ?? '', /^[0-9a-f-]{36}$/)
  assert.equal(failed.pool, 'email')
})

void test('429: retries after Retry-After until the pool has room', async () => {
  const recorder = recordingFetch()
  const client = createClient<Workflows>({ url: fx.url, fetch: recorder.fetch, retries: 3 })
  await client.run('held.wait', {}, { async: true }) // fills the `held` queue (maxQueued 1, no worker)
  const worker = createWorker({
    pool: 'held',
    registry: fx.registry,
    source: fx.source('held'),
    verifyKeys: VERIFY_KEYS,
    watchdogGraceMs: null,
  })
  // Async: a caller who waits would hear 503 at once (no worker of the pool is alive yet).
  const pending = client.run('held.wait', { n: 2 }, { async: true })
  try {
    // Start the pool's worker only once the client has been told to wait.
    for (let i = 0; i < 1000 && !recorder.calls.some((c) => c.status === 429); i++) await new Promise((r) => setTimeout(r, 10))
    assert.equal(recorder.calls.at(-1)?.status, 429)
    assert.equal(recorder.calls.at(-1)?.responseHeaders.get('retry-after'), '1')
    await worker.start()
    const queued = await pending
    assert.deepEqual(await client.wait(queued.runId, { timeout: 10_000 }), {})
    assert.deepEqual(
      recorder.calls.slice(1, 3).map((c) => c.status),
      [429, 202],
    )
  } finally {
    await worker.close()
  }
})

void test('a Retry-After beyond maxRetryDelayMs ends the retries at once, with retryAfter set', async () => {
  const client = createClient<Workflows>({ url: fx.url, maxRetryDelayMs: 200 })
  await client.run('held.wait', { fill: true }, { async: true }).catch(() => undefined)
  const error = await client.run('held.wait', { again: true }, { async: true }).catch((e: unknown) => e)
  assert.ok(error instanceof SwitchyardClientError)
  assert.deepEqual([error.code, error.status, error.retryAfter, error.pool], ['POOL_SATURATED', 429, 1, 'held'])
})

void test('503 BROKER_UNAVAILABLE before any run exists: retried after Retry-After, given up after `retries`', async () => {
  // A real gateway whose broker is down: a MemoryBroker already closed.
  const { registry, dir } = writeRegistry()
  const broker = new MemoryBroker({ pools: registry.pools.values() })
  await broker.close()
  const gateway = await startGateway({ registry, broker, port: 0, tokens: null, signingKey: SIGNING_KEY })
  try {
    const recorder = recordingFetch()
    const client = createClient<Workflows>({ url: gateway.url, fetch: recorder.fetch, retries: 2, retryDelayMs: 10 })
    const error = await client.run('echo.say', { text: 'x' }).catch((e: unknown) => e)
    assert.ok(error instanceof SwitchyardClientError)
    assert.deepEqual([error.code, error.status, error.retryAfter, error.runId], ['BROKER_UNAVAILABLE', 503, 1, undefined])
    assert.equal(error.message, 'BROKER_UNAVAILABLE: the memory broker is closed')
    // One attempt and two retries, each after the gateway's Retry-After (1 s), not the 10 ms backoff.
    assert.deepEqual(
      recorder.calls.map((c) => [c.status, c.responseHeaders.get('retry-after')]),
      [
        [503, '1'],
        [503, '1'],
        [503, '1'],
      ],
    )
    const gaps = recorder.calls.slice(1).map((c, i) => c.at - recorder.calls[i]!.at)
    assert.ok(
      gaps.every((gap) => gap >= 950),
      `waited ${gaps.join(', ')} ms between attempts`,
    )
  } finally {
    await gateway.close()
    rmSync(dir, { recursive: true, force: true })
  }
})

void test('timeout and signal: CLIENT_TIMEOUT, or the abort reason', async () => {
  const client = createClient<Workflows>({ url: fx.url })
  const timedOut = await client.run('echo.slow', {}, { timeout: 30 }).catch((e: unknown) => e)
  assert.ok(timedOut instanceof SwitchyardClientError)
  assert.equal(timedOut.code, 'CLIENT_TIMEOUT')
  assert.match(timedOut.message, /^CLIENT_TIMEOUT: no answer to POST \/v1\/workflows\/echo.slow\/run within 30 ms/)
  const controller = new AbortController()
  const pending = client.run('echo.slow', {}, { signal: controller.signal })
  controller.abort(new Error('user gave up'))
  await assert.rejects(pending, /user gave up/)
})

void test('an unreachable gateway is NETWORK_ERROR', async () => {
  const port = await freePort() // free now, so nothing listens there
  const client = createClient<Workflows>({ url: `http://127.0.0.1:${port}`, retries: 0 })
  const error = await client.run('echo.say', { text: 'x' }).catch((e: unknown) => e)
  assert.ok(error instanceof SwitchyardClientError)
  assert.equal(error.code, 'NETWORK_ERROR')
  assert.equal(error.status, 0)
  assert.equal(error.message, `NETWORK_ERROR: cannot reach the gateway at http://127.0.0.1:${port} (ECONNREFUSED)`)
})

void test('without an SDK: no caller context → no traceparent, the trace is rooted at the gateway', async () => {
  const recorder = recordingFetch()
  const client = createClient<Workflows>({ url: fx.url, fetch: recorder.fetch })
  const info = await client.run('echo.say', { text: 'x' }, { async: true })
  assert.equal(recorder.calls[0]?.headers.get('traceparent'), null)
  assert.match(info.traceId ?? '', /^[0-9a-f]{32}$/)
})

void test("without an SDK or context manager: the caller's context, passed explicitly, goes out and is continued", async () => {
  const recorder = recordingFetch()
  const client = createClient<Workflows>({ url: fx.url, fetch: recorder.fetch })
  const callerTrace = '5bf92f3577b34da6a3ce929d0e0e4736'
  const parent = trace.setSpanContext(ROOT_CONTEXT, { traceId: callerTrace, spanId: '10f067aa0ba902b7', traceFlags: TraceFlags.SAMPLED })
  const withBaggage = propagation.setBaggage(parent, propagation.createBaggage({ 'lead.id': { value: 'L 42' } }))
  const info = await client.run('echo.say', { text: 'x' }, { async: true, context: withBaggage })
  assert.equal(recorder.calls[0]?.headers.get('traceparent'), `00-${callerTrace}-10f067aa0ba902b7-01`)
  assert.equal(recorder.calls[0]?.headers.get('baggage'), 'lead.id=L%2042')
  assert.equal(info.traceId, callerTrace)
})

void test('wait: the output of an async run, its failure as RunFailedError, CLIENT_TIMEOUT when bounded', async () => {
  const client = createClient<Workflows>({ url: fx.url })
  const { runId } = await client.run('echo.say', { text: 'polled' }, { async: true })
  assert.deepEqual(await client.wait<Workflows['echo.say']['output']>(runId), { said: 'polled' })

  const failed = await client.run('echo.fail', {}, { async: true })
  const failure = await client.wait(failed.runId).catch((e: unknown) => e)
  assert.ok(failure instanceof RunFailedError)
  assert.deepEqual([failure.code, failure.status, failure.runId], ['GRAPH_FAILED', 502, failed.runId])

  const slow = await client.run('echo.slow', {}, { async: true })
  const early = await client.wait(slow.runId, { timeout: 50 }).catch((e: unknown) => e)
  assert.ok(early instanceof SwitchyardClientError)
  assert.equal(early.code, 'CLIENT_TIMEOUT')
  const late = await client.wait(slow.runId).catch((e: unknown) => e)
  assert.ok(late instanceof RunFailedError)
  assert.deepEqual([late.code, late.status], ['DEADLINE_EXCEEDED', 504])
})

void test('runs lists recent runs with filters, newest first, dead-lettered ones marked', async () => {
  const client = createClient<Workflows>({ url: fx.url })
  const failed = await client.run('echo.fail', {}).catch((e: unknown) => e)
  assert.ok(failed instanceof RunFailedError)
  const said = await client.run('echo.say', { text: 'listed' }, { async: true })
  await fx.broker.wait(said.runId, { until: Date.now() + 5000 })
  const latest = await client.runs({ limit: 2 })
  assert.deepEqual(
    latest.map((r) => [r.runId, r.status, r.deadLettered ?? false]),
    [
      [said.runId, 'succeeded', false],
      [failed.runId, 'failed', true],
    ],
  )
  assert.equal((await client.runs({ workflow: 'echo.fail', status: 'failed' }))[0]?.runId, failed.runId)
  const bad = await client.runs({ status: 'done' as never }).catch((e: unknown) => e)
  assert.ok(bad instanceof SwitchyardClientError)
  assert.equal(bad.message, "BAD_REQUEST: unknown status 'done': use queued, running, succeeded, failed, cancelled")
})

void test('cancel(): a queued run comes back cancelled (and again); a finished run rejects RUN_FINISHED, an unknown one UNKNOWN_RUN', async () => {
  const client = createClient<Workflows>({ url: fx.url })
  // The `held` queue (maxQueued 1, no worker) may be full from an earlier test: cancelling frees its place.
  for (const run of await client.runs({ pool: 'held', status: 'queued' }))
    assert.equal((await client.cancel(run.runId)).status, 'cancelled')
  const queued = await client.run('held.wait', { cancel: 'me' }, { async: true })
  const cancelled = await client.cancel(queued.runId)
  assert.equal(cancelled.status, 'cancelled')
  assert.equal(cancelled.error?.code, 'CANCELLED')
  assert.equal((await client.cancel(queued.runId)).status, 'cancelled')
  const failed = await client.wait(queued.runId).catch((e: unknown) => e)
  assert.ok(failed instanceof RunFailedError)
  assert.equal(failed.code, 'CANCELLED')

  const done = await client.run('echo.say', { text: 'done' }, { async: true })
  await client.wait(done.runId, { timeout: 10_000 })
  const finished = await client.cancel(done.runId).catch((e: unknown) => e)
  assert.ok(finished instanceof SwitchyardClientError)
  assert.deepEqual([finished.code, finished.status, finished.runId], ['RUN_FINISHED', 409, done.runId])
  const unknown = await client.cancel('no-such-run').catch((e: unknown) => e)
  assert.ok(unknown instanceof SwitchyardClientError)
  assert.deepEqual([unknown.code, unknown.status], ['UNKNOWN_RUN', 404])
})

void test('a redirect is an error naming where it pointed; nothing is sent there (input, token, trace headers)', async () => {
  // The second server stands for another origin; the first answers every request with a redirect to it.
  const seen: Array<{ method?: string; url?: string; headers: IncomingHttpHeaders; body: string }> = []
  const other = createServer((req, res) => {
    let body = ''
    req.on('data', (chunk: Buffer) => (body += chunk.toString()))
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, headers: req.headers, body })
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"said":"from elsewhere"}')
    })
  })
  await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve))
  const elsewhere = `http://127.0.0.1:${(other.address() as AddressInfo).port}`
  const statuses = [307, 308, 302, 301, 303]
  let next = 0
  const gateway = createServer((req, res) => {
    req.resume()
    res.writeHead(statuses[next++ % statuses.length] ?? 307, { location: `${elsewhere}${req.url}` }).end()
  })
  await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`
  try {
    const client = createClient<Workflows>({ url, token: 'SECRET-TOKEN', retries: 0 })
    const runId = '00000000-0000-4000-8000-000000000000'
    const calls = [
      () => client.run('echo.say', { text: '4111-1111-1111-1111' }),
      () => client.get(runId),
      () => client.cancel(runId),
      () => client.runs(),
      () => client.workflows(),
    ]
    for (const [i, call] of calls.entries()) {
      const error = await call().catch((e: unknown) => e)
      assert.ok(error instanceof SwitchyardClientError, `call ${i} rejects`)
      const status = statuses[i] ?? 0
      assert.equal(error.code, `HTTP_${status}`)
      assert.equal(error.status, status)
      assert.match(error.message, new RegExp(`the gateway at ${url} redirected \\w+ /v1/\\S+ to ${elsewhere}/v1/`))
      assert.match(error.message, /follows no redirect/)
    }
    assert.equal(next, calls.length, 'each call asked the gateway once')
    assert.deepEqual(seen, [], 'the other origin received nothing')
  } finally {
    gateway.close()
    other.close()
  }
})
