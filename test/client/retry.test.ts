// retryDelay (src/client/retry.ts), the one wait between attempts of every Switchyard
// caller: its bounds with a seeded random, both forms of Retry-After, headers it cannot
// read; then the typed client against a real gateway on loopback that sheds a burst
// (fair admission, its flow's one place held at the broker's door): the shed calls come
// back spread over Retry-After … 1.5 × Retry-After, none sooner than asked, and all succeed.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { createClient, retryDelay } from '../../src/client/index.js'
import { startGateway } from '../../src/gateway/index.js'
import { eventually } from '../helpers/eventually.js'
import { sampleValue } from '../helpers/prometheus.js'
import { behindDoor } from '../gateway/door.js'
import { startFixture } from '../gateway/fixture.js'

/** mulberry32: a seeded random in [0, 1), the same sequence for the same seed. */
function seeded(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const draws = (n: number, delay: (random: () => number) => number, seed = 13) => {
  const random = seeded(seed)
  return Array.from({ length: n }, () => delay(random))
}

const NOW = Date.parse('2026-12-06T12:00:00Z')

void test('Retry-After in seconds: the server asks for 1 s, callers wait 1000–1499 ms, spread over that half second', () => {
  assert.equal(retryDelay(0, '1', { random: () => 0 }), 1000)
  assert.equal(retryDelay(0, '1', { random: () => 0.999_999 }), 1499)
  assert.equal(retryDelay(5, ' 2 ', { random: () => 0.5 }), 2500, 'the attempt does not matter when the server says')
  const delays = draws(200, (random) => retryDelay(0, '1', { random }))
  for (const d of delays) assert.ok(Number.isInteger(d) && d >= 1000 && d < 1500, `${d}`)
  // 200 callers shed in the same millisecond come back over the whole window, not in one wave.
  assert.ok(Math.min(...delays) < 1025 && Math.max(...delays) > 1475, `${Math.min(...delays)}–${Math.max(...delays)}`)
  assert.ok(new Set(delays).size > 150, `${new Set(delays).size} distinct delays of 200`)
  // The same seed, the same delays: tests that need one can have it.
  assert.deepEqual(
    draws(200, (random) => retryDelay(0, '1', { random })),
    delays,
  )
})

void test('Retry-After as an HTTP date, in each of its three forms; a date past is now, spread over half a backoff', () => {
  const in3s = new Date(NOW + 3000).toUTCString() // IMF-fixdate: Sun, 06 Dec 2026 12:00:03 GMT
  assert.equal(in3s, 'Sun, 06 Dec 2026 12:00:03 GMT')
  assert.equal(retryDelay(0, in3s, { nowMs: NOW, random: () => 0 }), 3000)
  assert.equal(retryDelay(0, in3s, { nowMs: NOW, random: () => 0.999_999 }), 4499)
  assert.equal(retryDelay(0, 'Sunday, 06-Dec-26 12:00:03 GMT', { nowMs: NOW, random: () => 0 }), 3000, 'RFC 850')
  assert.equal(retryDelay(0, 'Sun Dec  6 12:00:03 2026', { nowMs: NOW, random: () => 0 }), 3000, 'asctime, which is GMT')
  // Part of a second ahead counts as a whole one: never sooner than asked.
  assert.equal(retryDelay(0, in3s, { nowMs: NOW + 2500, random: () => 0 }), 1000)
  const past = new Date(NOW - 60_000).toUTCString()
  assert.equal(retryDelay(0, past, { nowMs: NOW, random: () => 0 }), 0)
  for (const d of draws(100, (random) => retryDelay(3, past, { nowMs: NOW, random, baseMs: 250 }))) assert.ok(d >= 0 && d < 125, `${d}`)
})

void test('a Retry-After longer than maxMs is capped before its jitter', () => {
  assert.equal(retryDelay(0, '3600', { random: () => 0 }), 30_000)
  assert.equal(retryDelay(0, '3600', { random: () => 0.999_999 }), 44_999)
  assert.equal(retryDelay(0, '99999999999999999999999', { random: () => 0, maxMs: 5000 }), 5000)
  const farDate = new Date(NOW + 86_400_000).toUTCString()
  assert.equal(retryDelay(0, farDate, { nowMs: NOW, random: () => 0, maxMs: 5000 }), 5000)
})

void test('without Retry-After: capped exponential backoff with full jitter', () => {
  const options = { baseMs: 100, maxMs: 1000 }
  for (const [attempt, cap] of [
    [0, 100],
    [1, 200],
    [3, 800],
    [4, 1000],
    [60, 1000],
    [5000, 1000],
  ] as const) {
    assert.equal(retryDelay(attempt, null, { ...options, random: () => 0 }), 0)
    assert.equal(retryDelay(attempt, null, { ...options, random: () => 0.999_999 }), cap - 1)
    const delays = draws(200, (random) => retryDelay(attempt, undefined, { ...options, random }))
    for (const d of delays) assert.ok(Number.isInteger(d) && d >= 0 && d < cap, `attempt ${attempt}: ${d}`)
    // Full jitter: the whole range, not a band around the exponential value.
    assert.ok(
      Math.min(...delays) < cap * 0.1 && Math.max(...delays) > cap * 0.9,
      `attempt ${attempt}: ${Math.min(...delays)}–${Math.max(...delays)}`,
    )
  }
  // The defaults: 250 ms doubling, up to 30 s.
  assert.equal(retryDelay(0, null, { random: () => 0.999_999 }), 249)
  assert.equal(retryDelay(20, null, { random: () => 0.999_999 }), 29_999)
})

void test('a Retry-After it cannot read is no Retry-After: the backoff, the same draws', () => {
  for (const header of ['', ' ', '1.5', '-1', '+1', '1, 2', '1s', 'soon', 'May 5', '12:00:00', 'Sun, 99 Foo 2026 12:00:03 GMT', '0x10']) {
    for (const attempt of [0, 2]) {
      assert.deepEqual(
        draws(20, (random) => retryDelay(attempt, header, { random, nowMs: NOW })),
        draws(20, (random) => retryDelay(attempt, null, { random, nowMs: NOW })),
        JSON.stringify(header),
      )
    }
  }
  // '0' is readable: retry now, spread over half the first backoff.
  assert.equal(retryDelay(4, '0', { random: () => 0.999_999 }), 124)
})

// ---- the client against a gateway that sheds ----------------------------------------

interface Call {
  readonly text: string
  readonly status: number
  readonly sentAt: number
  readonly answeredAt: number
}

/** fetch that remembers each run request's text, its answer's status, and when it went out and came back. */
function recordingFetch() {
  const calls: Call[] = []
  const fetchImpl: typeof fetch = async (input, init) => {
    const sentAt = Date.now()
    const response = await fetch(input, init)
    const text = String((JSON.parse(String(init?.body ?? '{}')) as { text?: unknown }).text)
    calls.push({ text, status: response.status, sentAt, answeredAt: Date.now() })
    return response
  }
  return { calls, fetch: fetchImpl }
}

void test('a gateway sheds a burst with Retry-After: 1: the client comes back over 1–1.5 s, never sooner, not in one wave, and every run succeeds', async () => {
  const fx = await startFixture({ signingKey: null })
  const { broker, door } = behindDoor(fx.broker, (text) => text === 'hold')
  // One place per flow and 4 waiting: with the place held at the door, the 5th request on is shed.
  const admission = { concurrency: 8, perFlow: 1, queuePerFlow: 4 }
  const gateway = await startGateway({ registry: fx.registry, broker, port: 0, tokens: null, signingKey: null, admission })
  const exporter = new InMemorySpanExporter()
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
  const recorder = recordingFetch()
  const client = createClient({ url: gateway.url, fetch: recorder.fetch, tracer: provider.getTracer('retry-test') })
  const shed = async () =>
    sampleValue(await (await fetch(`${gateway.url}/metrics`)).text(), 'switchyard_gateway_admission_shed_total', { pool: 'email' }) ?? 0
  try {
    const holder = client.run('echo.say', { text: 'hold' }, { async: true })
    await eventually('the flow’s one place held at the door', () => door.held.length === 1 || undefined)
    const texts = Array.from({ length: 20 }, (_, i) => `c${i}`)
    const runs = texts.map((text) => client.run('echo.say', { text }))
    await eventually('16 of the 20 shed', async () => ((await shed()) >= 16 ? true : undefined))
    door.open()
    assert.deepEqual(
      await Promise.all(runs),
      texts.map((said) => ({ said })),
    )
    assert.ok((await holder).runId)

    const refused = texts.filter((text) => recorder.calls.find((c) => c.text === text)?.status === 429)
    assert.equal(refused.length, 16, JSON.stringify(recorder.calls.map((c) => [c.text, c.status])))
    // Each shed call came back no sooner than the gateway asked (Retry-After: 1).
    const retriedAt = refused.map((text) => {
      const [first, second] = recorder.calls.filter((c) => c.text === text)
      assert.ok(first && second, text)
      assert.ok(second.sentAt - first.answeredAt >= 999, `${text}: back after ${second.sentAt - first.answeredAt} ms`)
      return second.sentAt
    })
    // What each client span planned: Retry-After plus 0–50 %, spread, not one wave.
    await provider.forceFlush()
    const planned = exporter
      .getFinishedSpans()
      .filter((span) => span.name === 'client run echo.say')
      .flatMap((span) => span.events.filter((e) => e.name === 'retry').slice(0, 1))
      .map((e) => Number(e.attributes?.['retry.delay_ms']))
    assert.equal(planned.length, 16)
    for (const ms of planned) assert.ok(ms >= 1000 && ms < 1500, `planned ${ms} ms`)
    assert.ok(Math.max(...planned) - Math.min(...planned) >= 100, `planned ${planned.join(', ')} ms`)
    // And they reached the gateway at different moments, not in one millisecond.
    assert.ok(new Set(retriedAt).size > 1, `retries sent at ${retriedAt.join(', ')}`)
  } finally {
    door.open()
    await gateway.close()
    await fx.close()
    await provider.shutdown()
  }
})
