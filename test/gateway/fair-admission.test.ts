// Fair admission (src/gateway/fair-admission.ts): the scheduler's dispatch order, then a
// real gateway on loopback whose broker holds chosen submissions at the door (door.ts: a
// proxy around the real broker that records the order in which submissions reach it and
// lets the test release them one by one). Bounds are counted in dispatches, never in ms.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { loadRegistry } from '../../src/control/index.js'
import { RedisBroker } from '../../src/data/broker/redis/index.js'
import { FairAdmission, admissionOptionsFromEnv, resolveAdmissionLimits, type Slot } from '../../src/gateway/fair-admission.js'
import { startGateway, type Gateway } from '../../src/gateway/index.js'
import { eventually } from '../helpers/eventually.js'
import { sampleValue } from '../helpers/prometheus.js'
import { redisSkip, startRedis } from '../helpers/redis.js'
import { behindDoor } from './door.js'
import { startFixture, type Fixture } from './fixture.js'

// ---- the scheduler alone ----------------------------------------------------------

/** Admit `key` and record, in `order`, when it gets its place. */
function request(admission: FairAdmission, key: string, order: string[], label: string) {
  const answer = admission.admit(key)
  if (answer.kind === 'refused') return { refused: true as const }
  const slot: Promise<Slot> = answer.kind === 'admitted' ? Promise.resolve(answer.slot) : answer.slot
  const granted = slot.then((s) => {
    order.push(label)
    return s
  })
  granted.catch(() => undefined)
  const cancel = answer.kind === 'queued' ? answer.cancel : () => undefined
  return { refused: false as const, queued: answer.kind === 'queued', granted, cancel }
}

const flush = () => new Promise((resolve) => setImmediate(resolve))

void test('scheduler: a flow gets at most perFlow places; a full flow queue is refused; the rest wait in order', async () => {
  const admission = new FairAdmission(resolveAdmissionLimits({ concurrency: 10, perFlow: 2, queuePerFlow: 3 }))
  const order: string[] = []
  const answers = Array.from({ length: 8 }, (_, i) => request(admission, 'flood', order, `f${i}`))
  assert.deepEqual(
    answers.map((a) => (a.refused ? 'refused' : a.queued ? 'queued' : 'admitted')),
    ['admitted', 'admitted', 'queued', 'queued', 'queued', 'refused', 'refused', 'refused'],
  )
  assert.equal(admission.waiting(), 3)
  // Another flow is not behind the flood at all: a place at once.
  const other = request(admission, 'neighbour', order, 'n0')
  assert.equal(other.refused || other.queued, false)
  await flush()
  assert.deepEqual(order, ['f0', 'f1', 'n0'])
  // Each release of the flood's places lets its next waiter in, first come first served.
  ;(await (answers[0] as { granted: Promise<Slot> }).granted).release()
  await flush()
  assert.deepEqual(order.slice(3), ['f2'])
  assert.equal(admission.admitting(), 3)
})

void test('scheduler: with every place taken, a newcomer waits for at most one dispatch per other flow (round robin)', async () => {
  const admission = new FairAdmission(resolveAdmissionLimits({ concurrency: 3, perFlow: 3, queuePerFlow: 50 }))
  const order: string[] = []
  const slots: Promise<Slot>[] = []
  const send = (flow: string, label: string) => {
    const r = request(admission, flow, order, label)
    assert.equal(r.refused, false)
    if (!r.refused) slots.push(r.granted)
  }
  // Three hostile flows, 20 requests each: three hold every place, the rest wait.
  for (let i = 0; i < 20; i++) for (const flow of ['a', 'b', 'c']) send(flow, `${flow}${i}`)
  await flush()
  assert.equal(order.length, 3)
  send('n', 'n0')
  // Release places one at a time, oldest first, and watch where n0 lands.
  for (let i = 0; order.length < 10; i++) {
    ;(await (slots[i] as Promise<Slot>)).release()
    await flush()
  }
  const dispatchedAfter = order.slice(3)
  const at = dispatchedAfter.indexOf('n0')
  assert.ok(at >= 0, `n0 never dispatched: ${dispatchedAfter.join(' ')}`)
  // Ahead of it in the ring: a, b and c (they had waiters before n0 arrived), one dispatch each at most.
  assert.ok(at <= 3, `n0 waited for ${at} dispatches: ${dispatchedAfter.join(' ')}`)
  // And those before it were one of each other flow, none twice.
  assert.equal(new Set(dispatchedAfter.slice(0, at).map((label) => label[0])).size, at)
})

void test('scheduler: a waiter whose caller left gives its turn to the next; a released place is released once', async () => {
  const admission = new FairAdmission(resolveAdmissionLimits({ concurrency: 1, perFlow: 1, queuePerFlow: 5 }))
  const order: string[] = []
  const first = request(admission, 'x', order, 'x0')
  const gone = request(admission, 'x', order, 'x1')
  const next = request(admission, 'x', order, 'x2')
  assert.equal(admission.waiting(), 2)
  if (!gone.refused) gone.cancel(new Error('caller left'))
  await assert.rejects((gone as { granted: Promise<Slot> }).granted, /caller left/)
  assert.equal(admission.waiting(), 1)
  const slot = await (first as { granted: Promise<Slot> }).granted
  slot.release()
  slot.release()
  await (next as { granted: Promise<Slot> }).granted
  assert.deepEqual(order, ['x0', 'x2'])
  assert.equal(admission.admitting(), 1)
})

void test('scheduler: without a queue (queuePerFlow 0) a request is refused only when no place is free', () => {
  const admission = new FairAdmission({ concurrency: 4, perFlow: 2, queuePerFlow: 0 })
  const order: string[] = []
  assert.equal(admission.queueFull('a'), undefined)
  const first = request(admission, 'a', order, 'a1')
  assert.deepEqual([first.refused, admission.queueFull('a')], [false, undefined])
  const second = request(admission, 'a', order, 'a2')
  assert.equal(second.refused, false)
  // Both of the flow's places are taken: the next is refused, as the look before its body says.
  assert.equal(admission.queueFull('a'), 0)
  assert.equal(request(admission, 'a', order, 'a3').refused, true)
  assert.equal(admission.queueFull('b'), undefined)
})

void test('settings: defaults, env variables, and what is refused', () => {
  assert.deepEqual(resolveAdmissionLimits(), { concurrency: 64, perFlow: 8, queuePerFlow: 64 })
  assert.deepEqual(
    admissionOptionsFromEnv({
      SWITCHYARD_GATEWAY_ADMISSION_CONCURRENCY: '16',
      SWITCHYARD_GATEWAY_ADMISSION_PER_FLOW: '4',
      SWITCHYARD_GATEWAY_ADMISSION_QUEUE: '0',
    }),
    { concurrency: 16, perFlow: 4, queuePerFlow: 0 },
  )
  assert.throws(() => admissionOptionsFromEnv({ SWITCHYARD_GATEWAY_ADMISSION_PER_FLOW: '0' }), /SWITCHYARD_GATEWAY_ADMISSION_PER_FLOW/)
  assert.throws(() => admissionOptionsFromEnv({ SWITCHYARD_GATEWAY_ADMISSION_QUEUE: 'many' }), /SWITCHYARD_GATEWAY_ADMISSION_QUEUE/)
  assert.throws(() => admissionOptionsFromEnv({ SWITCHYARD_GATEWAY_ADMISSION_PER_FLOW: '100' }), /must not exceed/)
  assert.throws(() => resolveAdmissionLimits({ concurrency: 0 }), /concurrency/)
})

// ---- a real gateway --------------------------------------------------------------

async function run(url: string, text: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${url}/v1/workflows/echo.say/run`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ text }),
  })
  const body = (await response.json()) as { code?: string; said?: string }
  return {
    status: response.status,
    body,
    runId: response.headers.get('x-switchyard-run-id'),
    retryAfter: response.headers.get('retry-after'),
  }
}

async function waitingGauge(gateway: Gateway, token?: string): Promise<number> {
  const response = await fetch(`${gateway.url}/metrics`, token ? { headers: { authorization: `Bearer ${token}` } } : {})
  return sampleValue(await response.text(), 'switchyard_gateway_admission_waiting') ?? -1
}

/** A gateway on the fixture's broker and workers, the broker behind a door. */
async function gatewayBehindDoor(
  fx: Fixture,
  hold: (text: string) => boolean,
  options: Parameters<typeof startGateway>[0]['admission'],
  tokens: string[] | null,
) {
  const { broker, door } = behindDoor(fx.broker, hold)
  const gateway = await startGateway({ registry: fx.registry, broker, port: 0, tokens, signingKey: null, admission: options })
  return { gateway, door }
}

void test('gateway: a hostile caller with many requests in flight cannot put one of them between another caller and the broker', async () => {
  const fx = await startFixture({ signingKey: null })
  const tokens = ['token-hostile-a', 'token-hostile-b', 'token-neighbour']
  const { gateway, door } = await gatewayBehindDoor(
    fx,
    (text) => text.startsWith('hold'),
    { concurrency: 2, perFlow: 1, queuePerFlow: 20 },
    tokens,
  )
  try {
    const as = (token: string) => ({ authorization: `Bearer ${token}`, prefer: 'respond-async' })
    // Two hostile callers (two flows on the same pool), 12 requests each: one of each at the door, the rest waiting.
    const hostile = Array.from({ length: 12 }, (_, i) => [
      run(gateway.url, `hold-a${i}`, as('token-hostile-a')),
      run(gateway.url, `hold-b${i}`, as('token-hostile-b')),
    ]).flat()
    await eventually('both hostile flows at the door, the rest waiting', async () =>
      door.held.length === 2 && (await waitingGauge(gateway, tokens[0])) === 22 ? true : undefined,
    )
    // The neighbour's run, on the same pool: every place is taken, so it waits its turn.
    const neighbour = run(gateway.url, 'neighbour', { authorization: `Bearer ${tokens[2]}` })
    await eventually('the neighbour waiting', async () => ((await waitingGauge(gateway, tokens[0])) === 23 ? true : undefined))
    // Let the door pass one submission at a time (the oldest), and see when the neighbour's reaches it.
    while (!door.order.includes('neighbour')) {
      const seen = door.order.length
      door.held.shift()?.()
      await eventually('the next dispatch', () => (door.order.length > seen ? true : undefined))
    }
    const after = door.order.slice(2)
    // One dispatch per other flow at most: the two hostile flows were ahead of it in the ring.
    assert.ok(
      after.indexOf('neighbour') <= 2,
      `the neighbour's submission came after ${after.indexOf('neighbour')} others: ${after.join(' ')}`,
    )
    const answered = await neighbour
    assert.equal(answered.status, 200)
    assert.deepEqual(answered.body, { said: 'neighbour' })
    door.open()
    const answers = await Promise.all(hostile)
    assert.deepEqual(
      answers.map((a) => a.status),
      answers.map(() => 202),
    )
  } finally {
    door.open()
    await gateway.close()
    await fx.close()
  }
})

void test('gateway: another pool is not behind a flood at all; past its queue a flow is answered 429 at once, nothing submitted', async () => {
  const fx = await startFixture({ signingKey: null })
  const { gateway, door } = await gatewayBehindDoor(
    fx,
    (text) => text.startsWith('hold'),
    { concurrency: 8, perFlow: 2, queuePerFlow: 4 },
    null,
  )
  try {
    const flood = Array.from({ length: 30 }, (_, i) => run(gateway.url, `hold-${i}`, { prefer: 'respond-async' }))
    await eventually('the flow full', async () => (door.held.length === 2 && (await waitingGauge(gateway)) === 4 ? true : undefined))
    // The other 24 are refused without reaching the broker, while the door still holds the first two.
    await eventually('24 refused', async () => {
      const metrics = await (await fetch(`${gateway.url}/metrics`)).text()
      return sampleValue(metrics, 'switchyard_gateway_admission_shed_total', { pool: 'email' }) === 24 ? true : undefined
    })
    assert.equal(door.order.length, 2)
    // Another pool's run (the `quiet` pool) is served while the flood's are still held.
    const quiet = await fetch(`${gateway.url}/v1/workflows/quiet.say/run`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'quiet' }),
    })
    assert.equal(quiet.status, 200)
    assert.equal(door.held.length, 2)
    door.open()
    const answers = await Promise.all(flood)
    const refused = answers.filter((a) => a.status === 429)
    assert.equal(refused.length, 24)
    for (const r of refused) {
      assert.equal(r.body.code, 'TOO_MANY_REQUESTS')
      assert.ok(Number(r.retryAfter) >= 1)
      assert.equal(r.runId, null)
    }
    assert.equal(answers.filter((a) => a.status === 202).length, 6)
  } finally {
    door.open()
    await gateway.close()
    await fx.close()
  }
})

void test('gateway: a request whose caller left while it waited never reaches the broker', async () => {
  const fx = await startFixture({ signingKey: null })
  const { gateway, door } = await gatewayBehindDoor(
    fx,
    (text) => text.startsWith('hold'),
    { concurrency: 8, perFlow: 1, queuePerFlow: 4 },
    null,
  )
  try {
    const first = run(gateway.url, 'hold-first', { prefer: 'respond-async' })
    await eventually('the first at the door', () => (door.held.length === 1 ? true : undefined))
    const leaving = new AbortController()
    const gone = fetch(`${gateway.url}/v1/workflows/echo.say/run`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', prefer: 'respond-async' },
      body: JSON.stringify({ text: 'gone' }),
      signal: leaving.signal,
    }).catch(() => 'aborted')
    await eventually('it waits', async () => ((await waitingGauge(gateway)) === 1 ? true : undefined))
    leaving.abort()
    assert.equal(await gone, 'aborted')
    await eventually('its place given up', async () => ((await waitingGauge(gateway)) === 0 ? true : undefined))
    const last = run(gateway.url, 'last', { prefer: 'respond-async' })
    await eventually('the last one waiting', async () => ((await waitingGauge(gateway)) === 1 ? true : undefined))
    door.open()
    assert.equal((await first).status, 202)
    assert.equal((await last).status, 202)
    assert.deepEqual(door.order, ['hold-first', 'last'])
  } finally {
    door.open()
    await gateway.close()
    await fx.close()
  }
})

const skip = redisSkip()

void test(
  'redis: a 429 from a full flow queue claims no key; every keyed run waiting in the queue is accepted once',
  { skip },
  async () => {
    const redis = await startRedis()
    const fx = await startFixture({ signingKey: null }, redis.url)
    const { gateway, door } = await gatewayBehindDoor(
      fx,
      (text) => text.startsWith('hold'),
      { concurrency: 8, perFlow: 2, queuePerFlow: 3 },
      null,
    )
    try {
      const keyed = (key: string, text: string) => run(gateway.url, text, { prefer: 'respond-async', 'idempotency-key': key })
      const waiting = Array.from({ length: 5 }, (_, i) => keyed(`k-${i}`, `hold-${i}`))
      await eventually('the flow full', async () => (door.held.length === 2 && (await waitingGauge(gateway)) === 3 ? true : undefined))
      const refused = await keyed('k-late', 'hold-late')
      assert.equal(refused.status, 429)
      assert.equal(refused.body.code, 'TOO_MANY_REQUESTS')
      door.open()
      const accepted = await Promise.all(waiting)
      assert.deepEqual(
        accepted.map((a) => a.status),
        [202, 202, 202, 202, 202],
      )
      // The refused key was never claimed: the same key with another input is a new run, not a 409.
      const late = await keyed('k-late', 'another input')
      assert.equal(late.status, 202)
      // And a retry of a run that waited finds that run.
      const retried = await keyed('k-3', 'hold-3')
      assert.equal(retried.status, 202)
      assert.equal(retried.runId, accepted[3]?.runId)
      const ids = [...accepted.map((a) => a.runId), late.runId]
      assert.equal(new Set(ids).size, 6)
      for (const runId of ids) {
        const record = await fx.broker.wait(runId as string, { until: Date.now() + 20_000 })
        assert.equal(record?.status, 'succeeded')
      }
    } finally {
      door.open()
      await gateway.close()
      await fx.close()
      await redis.stop()
    }
  },
)

void test(
  'redis: a keyless request that waited for a place is refused from the full-pool hint when those ahead of it found the pool full',
  { skip },
  async () => {
    const redis = await startRedis()
    const fx = await startFixture({ signingKey: null }, redis.url)
    const { gateway, door } = await gatewayBehindDoor(
      fx,
      (text) => text.startsWith('hold'),
      { concurrency: 8, perFlow: 1, queuePerFlow: 4 },
      null,
    )
    const held = (text: string) =>
      fetch(`${gateway.url}/v1/workflows/held.wait/run`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', prefer: 'respond-async' },
        body: JSON.stringify({ text }),
      }).then(async (response) => ({
        status: response.status,
        code: ((await response.json()) as { code?: string }).code,
        traceId: response.headers.get('x-switchyard-trace-id'),
      }))
    try {
      // `held` (maxQueued 1, no worker) takes one run; the next keyless one is held at the door, a third waits behind it.
      assert.equal((await held('fills')).status, 202)
      const first = held('hold-first')
      await eventually('the first at the door', () => (door.held.length === 1 ? true : undefined))
      const waiter = held('waiter')
      await eventually('the second waiting', async () => ((await waitingGauge(gateway)) === 1 ? true : undefined))
      door.open()
      // The first asked Redis and was refused: its answer carries its trace id.
      const asked = await first
      assert.deepEqual([asked.status, asked.code], [429, 'POOL_SATURATED'])
      assert.ok(asked.traceId)
      // The second got its place after that, and was refused from the hint: no body read, no span, nothing sent.
      const shed = await waiter
      assert.deepEqual([shed.status, shed.code, shed.traceId], [429, 'POOL_SATURATED', null])
      assert.deepEqual(door.order, ['fills', 'hold-first'])
    } finally {
      door.open()
      await gateway.close()
      await fx.close()
      await redis.stop()
    }
  },
)

void test(
  "redis: a keyed request refused at its full flow queue is told the pool's own Retry-After once the pool was found full",
  { skip },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-backlog-'))
    // One slot and three queued runs: the admission script's Retry-After is 3 s (queued ÷ slots), not the flow queue's 1 s.
    writeFileSync(
      join(dir, 'switchyard.yaml'),
      `version: 1
pools:
  backlog: { concurrency: 1, timeout: 60s, retries: 0, maxQueued: 3 }
workflows:
  backlog.wait:
    pool: backlog
    graph: graph.mjs#graph
    description: Never runs (the pool has no worker).
    input: { type: object, properties: { text: { type: string } } }
`,
    )
    writeFileSync(join(dir, 'graph.mjs'), 'export function graph() { return async () => ({}) }\n')
    const registry = loadRegistry(join(dir, 'switchyard.yaml'))
    const redis = await startRedis()
    const real = await RedisBroker.connect({ registry, url: redis.url, prefix: `sy-${randomUUID().slice(0, 8)}` })
    const { broker, door } = behindDoor(real, (text) => text.startsWith('hold'))
    const tokens = ['token-flood', 'token-other']
    const gateway = await startGateway({
      registry,
      broker,
      port: 0,
      tokens,
      signingKey: null,
      admission: { concurrency: 8, perFlow: 1, queuePerFlow: 0 },
    })
    const send = (token: string, text: string, key?: string) =>
      fetch(`${gateway.url}/v1/workflows/backlog.wait/run`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${token}`,
          prefer: 'respond-async',
          ...(key ? { 'idempotency-key': key } : {}),
        },
        body: JSON.stringify({ text }),
      }).then(async (response) => ({
        status: response.status,
        code: ((await response.json()) as { code?: string }).code,
        retryAfter: response.headers.get('retry-after'),
      }))
    try {
      // No worker: async runs queue anyway, until maxQueued.
      for (const i of [1, 2, 3])
        assert.deepEqual(await send('token-other', `fill-${i}`), { status: 202, code: undefined, retryAfter: null })
      // The flood's one place is held at the door: its next request is refused at its flow queue.
      const held = send('token-flood', 'hold', 'k-held')
      await eventually('the flood at the door', () => (door.held.length === 1 ? true : undefined))
      const before = await send('token-flood', 'x', 'k-before')
      assert.deepEqual([before.status, before.code, before.retryAfter], [429, 'TOO_MANY_REQUESTS', '1'])
      // Another caller finds the pool full (the broker remembers it for a moment), then the flood asks again.
      let n = 0
      const told = await eventually("the pool's Retry-After", async () => {
        const other = await send('token-other', 'full')
        assert.deepEqual([other.status, other.code, other.retryAfter], [429, 'POOL_SATURATED', '3'])
        const again = await send('token-flood', 'x', `k-${n++}`)
        assert.deepEqual([again.status, again.code], [429, 'TOO_MANY_REQUESTS'])
        return again.retryAfter === '3' ? again : undefined
      })
      assert.equal(told.retryAfter, '3')
      door.open()
      assert.deepEqual([(await held).status, (await held).code], [429, 'POOL_SATURATED'])
    } finally {
      door.open()
      await gateway.close()
      await real.close()
      await redis.stop()
      rmSync(dir, { recursive: true, force: true })
    }
  },
)
