// Issue 13.2–13.3 without a supervisor: workers started by hand (`python3 -m switchyard_worker`,
// `switchyard worker`), as systemd or Kubernetes would, beside `switchyard gateway`, on a real
// redis-server with the ACL users `switchyard acl` prints. Each is its pool's only worker, so
// no live worker of the pool can reap it (and a Python pool has no reaper of its own): the
// gateway does (RedisBroker's `reap`). A kill -9 mid-run puts the run back in the queue
// within seconds (the heartbeat's lifetime, not BullMQ's lock: 30 s for Python, 60 s for
// node), counted as a crash; a run past its deadline ends WORKER_LOST; a graph that kills its
// worker every time ends WORKER_CRASHED after 2 crashes. Each graph start appends a ledger
// line (run id, pid). Without the gateway's reaper each of these waits for BullMQ's lock.
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { describe, test } from 'node:test'

import { alive } from '../../../helpers/start.js'
import { POOL, reaperRig, skip } from './fixtures/reaper-rig.js'

void describe('workers without a supervisor, reaped by the gateway (Redis)', { skip }, () => {
  const rig = reaperRig()
  const { startWorker, submit, record, reaches, ledger, starts } = rig
  for (const language of ['python', 'node'] as const) {
    const pool = POOL[language]

    void test(`${language}: its only worker kill -9'd mid-run, the run is queued again within seconds and the next worker runs it`, async (t) => {
      const file = join(rig.dir, `ledger-${language}-kill.jsonl`)
      const first = await startWorker(language)
      const runId = await submit(`${pool}.nap`, { ledger: file, sleep: 2 })
      const [line] = await starts(file, runId, 1)
      assert.equal(line?.pid, first.pid)
      process.kill(first.pid, 'SIGKILL')
      const killedAt = Date.now()
      // Bounded by the heartbeat (2 s) and the reaper's pass (0.5 s), not BullMQ's lock (30 s / 60 s):
      // nobody else could have put it back, the pool has no other worker.
      await reaches(runId, 'queued', 10_000, [first])
      t.diagnostic(`${language}: queued again ${Date.now() - killedAt} ms after the kill -9`)
      assert.equal(alive(first.pid), false)

      // The service manager starts a worker again: it runs the run, the crash counted as its first attempt.
      const second = await startWorker(language)
      const body = await reaches(runId, 'ended', 20_000, [second])
      assert.equal(body.status, 'succeeded', JSON.stringify(body))
      assert.deepEqual(body.output, { slept: 2 })
      assert.equal(body.attempts, 2)
      assert.deepEqual(
        ledger(file, runId).map((l) => l.pid),
        [first.pid, second.pid],
      )
      await second.stop()
    })

    void test(`${language}: its only worker kill -9'd within a second of the run's deadline, the run ends WORKER_LOST`, async () => {
      const file = join(rig.dir, `ledger-${language}-lost.jsonl`)
      const worker = await startWorker(language)
      const runId = await submit(`${pool}.short`, { ledger: file, sleep: 60 })
      await starts(file, runId, 1)
      const { deadline } = await record(runId)
      // Killed with under a second left: the heartbeat expires (2 s) after the deadline has passed.
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, Date.parse(deadline ?? '') - 1000 - Date.now())))
      process.kill(worker.pid, 'SIGKILL')
      const body = await reaches(runId, 'ended', 10_000, [worker])
      assert.equal(body.status, 'failed', JSON.stringify(body))
      assert.equal(body.error?.code, 'WORKER_LOST', JSON.stringify(body))
      assert.match(body.error?.message ?? '', /stopped beating/)
      assert.equal(ledger(file, runId).length, 1)
    })

    void test(`${language}: a graph that kills its worker every time ends WORKER_CRASHED after 2 crashes, never started a third time`, async () => {
      const file = join(rig.dir, `ledger-${language}-poison.jsonl`)
      // Three workers of one run each, none supervised: each crash takes one down for good.
      const workers = await Promise.all([startWorker(language), startWorker(language), startWorker(language)])
      const submittedAt = Date.now()
      const runId = await submit(`${pool}.die`, { ledger: file })
      const body = await reaches(runId, 'ended', 15_000, workers)
      assert.equal(body.status, 'failed', JSON.stringify(body))
      assert.equal(body.error?.code, 'WORKER_CRASHED', JSON.stringify(body))
      assert.match(body.error?.message ?? '', new RegExp(`run ${runId} was dead-lettered after its worker died under it 2 times`))
      // Long before its 20 s deadline: not WORKER_LOST, not BullMQ's stalled check.
      assert.ok(Date.now() - submittedAt < 15_000)
      const lines = ledger(file, runId)
      assert.equal(lines.length, 2, JSON.stringify(lines))
      assert.notEqual(lines[0]?.pid, lines[1]?.pid)

      // The worker left serves the pool's next run; the poison run is not taken again.
      const next = await submit(`${pool}.nap`, { ledger: file, sleep: 0 })
      const served = await reaches(next, 'ended', 20_000, workers)
      assert.equal(served.status, 'succeeded', JSON.stringify(served))
      assert.equal(ledger(file, runId).length, 2)
      await Promise.all(workers.map((worker) => worker.stop()))
    })
  }
})
