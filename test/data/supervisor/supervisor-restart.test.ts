// A pool whose worker crashes in a loop is restarted with exponential backoff and
// never stops the other pools from serving.
import assert from 'node:assert/strict'
import { fileURLToPath } from 'node:url'
import { test } from 'node:test'

import { MemoryBroker } from '../../../src/data/broker/memory/index.js'
import { startSupervisor } from '../../../src/data/supervisor/index.js'
import { Events, WORKER_PROGRAM, eventually, onlyPools } from './supervisor-helpers.js'
import { envelopeFor, fixtureRegistry, VERIFY, LONG } from '../worker/worker-helpers.js'

void test('crash loop: restarts with backoff 50 → 100 → 200 → 400 → 400 ms; the work pool keeps serving', async () => {
  const registry = onlyPools(fixtureRegistry(), ['work', 'discovery'])
  const broker = new MemoryBroker({ pools: registry.pools.values(), retryDelayMs: 20 })
  const events = new Events()
  const supervisor = startSupervisor({
    registry,
    broker: { kind: 'memory', broker },
    worker: {
      module: fileURLToPath(new URL('../../fixtures/data/crashing-worker.ts', import.meta.url)),
      execArgv: WORKER_PROGRAM.execArgv,
      args: (pool) => ['--pool', pool.name, '--ipc'],
    },
    verifyKeys: VERIFY,
    backoff: { initialMs: 50, maxMs: 400, resetAfterMs: 60_000 },
    onEvent: events.push,
    output: events.output,
  })
  try {
    await eventually('five discovery restarts', () => (events.of('restart', 'discovery').length >= 5 ? true : undefined)).catch(
      (error: Error) => {
        throw new Error(`${error.message}; the workers said:\n${events.tail()}`)
      },
    )
    assert.deepEqual(
      events
        .of('restart', 'discovery')
        .slice(0, 5)
        .map((e) => [e.crashes, e.delayMs]),
      [
        [1, 50],
        [2, 100],
        [3, 200],
        [4, 400],
        [5, 400],
      ],
    )
    assert.ok(events.of('exit', 'discovery').every((e) => e.code === 3 && !e.expected))
    assert.ok(
      events.lines.some((line) => /^\[discovery \d+\] worker exited unexpectedly \(code 3\)$/.test(line)),
      events.lines.join('\n'),
    )

    // Meanwhile, the other pool serves runs, on the process it started with.
    const pids = supervisor.pids('work')
    const envelope = envelopeFor(registry, 'work.echo', { during: 'crash loop' })
    await broker.submit(envelope)
    const record = await broker.wait(envelope.runId, { until: Date.now() + LONG })
    assert.equal(record.status, 'succeeded', JSON.stringify(record.error))
    assert.deepEqual(supervisor.pids('work'), pids)
    assert.equal(events.of('exit', 'work').length, 0)

    const status = await supervisor.status()
    const discovery = status.find((s) => s.pool === 'discovery')
    assert.ok(discovery && discovery.crashes >= 5 && discovery.wanted === 1)
    assert.match(discovery.note, /^(restarting in \d+ms|restarted after \d+ crashes)$/)
    assert.equal(status.find((s) => s.pool === 'work')?.up, 1)
  } finally {
    await supervisor.stop()
    await broker.close()
  }
  // stop() cancels pending restarts: nothing spawns afterwards.
  const spawned = events.all.filter((e) => e.type === 'spawn').length
  await new Promise((resolve) => setTimeout(resolve, 500))
  assert.equal(events.all.filter((e) => e.type === 'spawn').length, spawned)
})
