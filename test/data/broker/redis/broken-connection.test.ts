// The gateway's connection to Redis breaks with a command in flight (Redis killed, a
// network cut): the command's reply never comes. That command must fail at once, and the
// submit be answered by what Redis holds once it answers again, never by the broker's
// command bound (10 s by default) running out. Before the fix a submit whose command was in
// flight waited the whole bound: ioredis drops the unanswered commands of a connection
// whose resend is off (the producer's, so that a submit given up on cannot land later)
// without settling them. The chaos suite's kill-redis saw a neighbour request answered 503
// after 10 s.
//
// A loopback proxy stands between the broker and a real Redis: it swallows what the broker
// sends (the command never ran) or what Redis answers (it ran, its reply is lost), then cuts
// every connection, then lets the reconnection through, as a Redis killed and restarted would.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { createServer, connect, type Server, type Socket } from 'node:net'
import { test } from 'node:test'

import { Queue } from 'bullmq'

import { queueName } from '../../../../src/control/index.js'
import { RedisBroker, redisRunSource } from '../../../../src/data/broker/redis/index.js'
import { commands } from '../../../../src/data/broker/redis/commands.js'
import { poolKeys } from '../../../../src/data/broker/redis/keys.js'
import { redisPerFile } from '../../../helpers/redis-per-file.js'
import { CONTRACT, contractRegistry, envelope } from '../broker.contract.js'

const { skip, server } = redisPerFile()
const registry = contractRegistry()
/** Far above what any answer here takes: a command that waits for it has lost its reply. */
const BOUND_MS = 20_000

interface Proxy {
  readonly url: string
  /** Drop what clients send from now on: their commands never reach Redis. */
  swallowRequests(): void
  /**
   * From the `nth` chunk a client sends that holds `marker` on (that chunk passes), drop
   * what Redis answers: those commands run, and their replies are lost.
   */
  swallowRepliesFrom(marker: string, nth: number): void
  /** From the first chunk a client sends that holds `marker` on (that chunk too), swallowRequests(). */
  swallowRequestsFrom(marker: string): void
  /** Resolves once a client has sent its `nth` chunk holding `marker` (passed on or swallowed). */
  seen(marker: string, nth: number): Promise<void>
  /** Cut every connection open now, and let new ones through again. */
  cut(): void
  close(): Promise<void>
}

async function startProxy(port: number): Promise<Proxy> {
  let requests = false
  let replies = false
  let trigger: { marker: string; left: number } | null = null
  let requestTrigger: string | null = null
  const watchers: { marker: string; left: number; resolve: () => void }[] = []
  const open = new Set<Socket>()
  const proxy: Server = createServer((client) => {
    const upstream = connect(port, '127.0.0.1')
    open.add(client)
    open.add(upstream)
    client.on('data', (chunk) => {
      for (const watcher of [...watchers]) {
        if (chunk.includes(watcher.marker) && --watcher.left === 0) {
          watchers.splice(watchers.indexOf(watcher), 1)
          watcher.resolve()
        }
      }
      if (requestTrigger !== null && chunk.includes(requestTrigger)) {
        requestTrigger = null
        requests = true
      }
      if (requests) return
      if (trigger && chunk.includes(trigger.marker) && --trigger.left === 0) {
        trigger = null
        replies = true
      }
      upstream.write(chunk)
    })
    upstream.on('data', (chunk) => {
      if (!replies) client.write(chunk)
    })
    const end = () => {
      client.destroy()
      upstream.destroy()
      open.delete(client)
      open.delete(upstream)
    }
    for (const socket of [client, upstream]) {
      socket.on('close', end)
      socket.on('error', end)
    }
  })
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
  const address = proxy.address() as { port: number }
  return {
    url: `redis://127.0.0.1:${address.port}`,
    swallowRequests: () => (requests = true),
    swallowRepliesFrom: (marker, nth) => (trigger = { marker, left: nth }),
    swallowRequestsFrom: (marker) => (requestTrigger = marker),
    seen: (marker, nth) => new Promise((resolve) => watchers.push({ marker, left: nth, resolve })),
    cut() {
      for (const socket of open) socket.destroy()
      open.clear()
      requests = false
      replies = false
      trigger = null
      requestTrigger = null
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy()
        proxy.close(() => resolve())
      }),
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

interface Case {
  /** What the proxy loses of the submit: the admission itself, the admission's reply, or the add's reply. */
  readonly lose: 'admission' | 'admission reply' | 'add reply'
  /** Whether the lost submit's run is queued after all. */
  readonly queued: boolean
}

const CASES: readonly Case[] = [
  { lose: 'admission', queued: false },
  { lose: 'admission reply', queued: false },
  { lose: 'add reply', queued: true },
]

/** A broker behind a fresh proxy, with one run submitted (its pool's events open, scripts loaded). */
async function rigged(boundMs: number, body: (rig: { proxy: Proxy; broker: RedisBroker; prefix: string }) => Promise<void>): Promise<void> {
  const proxy = await startProxy(server().port)
  const prefix = `bc-${randomUUID().slice(0, 8)}`
  const broker = await RedisBroker.connect({ registry, url: proxy.url, prefix, commandTimeoutMs: boundMs, expire: false })
  try {
    // The next submit sends only its own commands.
    await broker.submit(envelope(registry, CONTRACT.workflows.echo, { mode: 'echo', value: 'before' }), { async: true })
    await body({ proxy, broker, prefix })
  } finally {
    proxy.cut()
    await broker.close()
    await proxy.close()
  }
}

/** Cut every connection once the `nth` command naming `runId` was sent (and lost as the proxy was told). */
async function cutAfter(proxy: Proxy, runId: string, nth: number): Promise<void> {
  await proxy.seen(runId, nth)
  await sleep(50)
  proxy.cut()
}

/** What a submit left in Redis for `runId`, read on a connection of its own (behind no proxy). */
async function stateOf(prefix: string, pool: string, runId: string) {
  const queue = new Queue('bc-raw', { connection: { url: server().url } })
  try {
    const client = await queue.client
    const keys = poolKeys(prefix, queueName(pool))
    return {
      owner: (await commands(client).exists(keys.owner(runId))) === 1,
      deadline: (await client.zscore(keys.deadlines, runId)) !== null,
      admitting: (await client.zscore(keys.admitting, runId)) !== null,
    }
  } finally {
    await queue.close()
  }
}

type Outcome = { ok: true; runId: string } | { ok: false; code?: string; message?: string }

for (const c of CASES) {
  void test(
    `the connection breaks with the ${c.lose} in flight: answered once Redis answers again, not at the command bound; a retry with the key ${c.queued ? 'finds the run' : 'queues it once'}`,
    { skip, timeout: 90_000 },
    () =>
      rigged(BOUND_MS, async ({ proxy, broker, prefix }) => {
        const key = `k-${randomUUID()}`
        const lost = { ...envelope(registry, CONTRACT.workflows.echo, { mode: 'echo', value: 'lost' }), idempotencyKey: key }
        // The admission's command is the first to name the run, the add's the second.
        const nth = c.lose === 'add reply' ? 2 : 1
        if (c.lose === 'admission') proxy.swallowRequests()
        else proxy.swallowRepliesFrom(lost.runId, nth)
        const started = Date.now()
        const submitting: Promise<Outcome> = broker.submit(lost, { async: true }).then(
          (result) => ({ ok: true, runId: result.runId }),
          (error: { code?: string; message?: string }) => ({ ok: false, code: error.code, message: error.message }),
        )
        await cutAfter(proxy, lost.runId, nth)
        const outcome = await submitting
        const tookMs = Date.now() - started
        assert.ok(tookMs < BOUND_MS / 2, `answered after ${tookMs} ms: it waited for the command bound`)
        if (c.queued) {
          assert.deepEqual(outcome, { ok: true, runId: lost.runId })
        } else {
          assert.equal(outcome.ok, false, 'a submit that queued nothing was accepted')
          if (!outcome.ok) {
            assert.equal(outcome.code, 'BROKER_UNAVAILABLE')
            assert.match(outcome.message ?? '', /connection to Redis broke before it answered/)
          }
        }

        // A client retries with its key (a new request: a new run id) until it is answered,
        // for less than the pending window (BOUND_MS + 5 s) a claim of a run never queued holds the key.
        const retry = { ...envelope(registry, CONTRACT.workflows.echo, { mode: 'echo', value: 'lost' }), idempotencyKey: key }
        let accepted: { runId: string; deduped: boolean } | null = null
        const refusals: string[] = []
        while (accepted === null && Date.now() - started < BOUND_MS / 2) {
          accepted = await broker.submit(retry, { async: true }).catch((error: Error) => {
            refusals.push(error.message)
            return null
          })
          if (accepted === null) await sleep(200)
        }
        assert.ok(accepted, `the retry was never accepted; the last refusal: ${refusals.at(-1)}`)
        assert.deepEqual(accepted, c.queued ? { runId: lost.runId, deduped: true } : { runId: retry.runId, deduped: false })
        assert.equal((await broker.get(lost.runId))?.status, c.queued ? 'queued' : undefined)
        assert.equal((await broker.get(retry.runId))?.status, c.queued ? undefined : 'queued')
        // The queued run has its owner and its deadline entry; the undone one left neither behind.
        const whole = { owner: true, deadline: true, admitting: false }
        assert.deepEqual(await stateOf(prefix, lost.pool, c.queued ? lost.runId : retry.runId), whole)
        if (!c.queued) assert.deepEqual(await stateOf(prefix, lost.pool, lost.runId), { owner: false, deadline: false, admitting: false })
      }),
  )
}

void test(
  'the same run submitted again while its lost admission is being undone is refused until the undo ends, then queued whole',
  { skip, timeout: 90_000 },
  () =>
    rigged(BOUND_MS, async ({ proxy, broker, prefix }) => {
      const run = { ...envelope(registry, CONTRACT.workflows.echo, { mode: 'echo', value: 'again' }), idempotencyKey: `k-${randomUUID()}` }
      proxy.swallowRepliesFrom(run.runId, 1)
      const submitting = broker.submit(run, { async: true }).catch((error: Error) => error)
      await cutAfter(proxy, run.runId, 1)
      assert.ok((await submitting) instanceof Error, 'the submit whose admission reply was lost was accepted')
      // Its undo waits for the connection (BullMQ reconnects after a second at the soonest):
      // the same envelope at once is refused, not admitted under an undo that knows only its id.
      await assert.rejects(broker.submit(run, { async: true }), {
        code: 'BROKER_UNAVAILABLE',
        message: `an earlier submit of run ${run.runId} is still being undone; retry in a moment`,
      })
      let accepted: { runId: string; deduped: boolean } | null = null
      const started = Date.now()
      while (accepted === null && Date.now() - started < BOUND_MS / 2) {
        accepted = await broker.submit(run, { async: true }).catch(() => null)
        if (accepted === null) await sleep(100)
      }
      assert.deepEqual(accepted, { runId: run.runId, deduped: false })
      await sleep(500)
      assert.deepEqual(await stateOf(prefix, run.pool, run.runId), { owner: true, deadline: true, admitting: false })
    }),
)

void test(
  'an add whose reply never comes, on a connection that stays up, is answered after the bound of the add and one more to ask whether it landed',
  { skip, timeout: 60_000 },
  () =>
    rigged(1500, async ({ proxy, broker }) => {
      const run = envelope(registry, CONTRACT.workflows.echo, { mode: 'echo', value: 'unanswered' })
      // The add runs, and neither its reply nor any later one comes back (a Redis that hangs).
      proxy.swallowRepliesFrom(run.runId, 2)
      const started = Date.now()
      // The add's bound, then asking whether it landed within one more; never a third.
      await assert.rejects(broker.submit(run, { async: true }), { code: 'BROKER_UNAVAILABLE', message: /did not answer within 1500 ms/ })
      const tookMs = Date.now() - started
      assert.ok(tookMs < 2.5 * 1500, `answered after ${tookMs} ms`)
    }),
)

void test(
  'a wait whose read of the finished run is lost as the connection breaks reads it again, and returns the run: not a 503 for a run that succeeded',
  { skip, timeout: 60_000 },
  () =>
    rigged(BOUND_MS, async ({ proxy, prefix }) => {
      // The run was submitted by another gateway: this one's wait is told by its event that the
      // run finished, then reads the record (a run it submitted itself comes with its record).
      const url = server().url
      const producer = await RedisBroker.connect({ registry, url, prefix, expire: false })
      const waiter = await RedisBroker.connect({
        registry,
        url: proxy.url,
        prefix,
        commandTimeoutMs: BOUND_MS,
        pollMs: 3_600_000,
        expire: false,
      })
      const source = redisRunSource('work', { url, prefix })
      try {
        const run = envelope(registry, CONTRACT.workflows.echo, { mode: 'echo', value: 'read me' })
        await producer.submit(run, { async: true })
        const waiting = waiter.wait(run.runId, { until: Date.now() + 30_000 })
        await sleep(300)
        // Its read of the finished run (the only command of the wait's from now on that names
        // the run's owner key) is lost, and so is all that follows until the cut.
        const ownerKey = poolKeys(prefix, queueName(run.pool)).owner(run.runId)
        proxy.swallowRequestsFrom(ownerKey)
        const read = cutAfter(proxy, ownerKey, 1)
        source.start(async () => ({ ok: true, output: { read: 'me' } }), { concurrency: 1 })
        await read
        const record = await waiting
        assert.equal(record.status, 'succeeded')
        assert.deepEqual(record.output, { read: 'me' })
      } finally {
        await source.close()
        await waiter.close()
        await producer.close()
      }
    }),
)
