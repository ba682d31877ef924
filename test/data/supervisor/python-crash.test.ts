// Issue 13.2 and 13.3 for Python pools on Redis, under `switchyard start`: a Python worker
// writes each run's lease (the BullMQ lock token its Worker holds) before the graph starts,
// so when the supervisor sees it die it reaps it at once (RedisBroker.workerExited →
// reapWorker), as it does a node worker. A kill -9 mid-run: the run starts again within
// seconds and succeeds, far before its 10 s deadline (BullMQ's stalled check alone takes
// 30–60 s). A graph that kills its own process every time: WORKER_CRASHED after 2 crashes
// (the broker's maxCrashes), never started a third time, and the pool serves again.
// Each graph start appends a ledger line (the run id and the process's pid).
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, test } from 'node:test'

import { redisSkip } from '../../helpers/redis.js'
import { alive, type Launched } from '../../helpers/start.js'
import { submitAsync as submit, waitFor, withLaunched, runEnded } from '../../helpers/start-project.js'
import { pythonSkip } from '../../helpers/python.js'

const PYTHON_SKIP = pythonSkip(['opentelemetry.sdk', 'jsonschema', 'bullmq'])

// Two processes of one run each: a run put back in the queue is taken by the live one at once.
const REGISTRY = `version: 1
pools:
  py:
    runtime: python
    env: env/py.env
    concurrency: 1
    processes: 2
    timeout: 10s
  poison:
    runtime: python
    env: env/poison.env
    concurrency: 1
    processes: 2
    timeout: 30s
workflows:
  py.nap:
    pool: py
    graph: graphs.py#nap
    input: { type: object }
    description: Writes a ledger line per start, then sleeps.
  poison.die:
    pool: poison
    graph: graphs.py#die
    input: { type: object }
    description: Writes a ledger line, then kills its own process (kill -9), every time.
  poison.nap:
    pool: poison
    graph: graphs.py#nap
    input: { type: object }
    description: Writes a ledger line per start, then sleeps.
`

// Module-level imports: only typing, __future__ and switchyard_worker (switchyard check's lint).
const GRAPHS = `from __future__ import annotations

from typing import Any


def _ledger(input: Any, run: Any) -> None:
    import json
    import os

    with open(input["ledger"], "a", encoding="utf-8") as file:
        file.write(json.dumps({"run": run.run_id, "pid": os.getpid()}) + "\\n")


async def nap(input: Any, run: Any) -> Any:
    import asyncio

    _ledger(input, run)
    await asyncio.sleep(input.get("sleep", 0))
    return {"slept": input.get("sleep", 0)}


def die(input: Any, run: Any) -> Any:
    import os
    import signal

    _ledger(input, run)
    os.kill(os.getpid(), signal.SIGKILL)
    return {"unreachable": True}
`

interface Line {
  readonly run: string
  readonly pid: number
}

function ledger(file: string, runId: string): Line[] {
  if (!existsSync(file)) return []
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Line)
    .filter((line) => line.run === runId)
}

const PROJECT = {
  tag: 'python-crash',
  files: { 'graphs.py': GRAPHS, 'switchyard.yaml': REGISTRY, 'env/py.env': '', 'env/poison.env': '' },
}

/** `switchyard start` on Redis over the project, both Python pools ready. */
const withStart = (body: (running: Launched, dir: string) => Promise<void>) => withLaunched('start', PROJECT, body)

void describe('a Python worker killed under switchyard start (Redis)', { skip: redisSkip() || PYTHON_SKIP }, () => {
  void test('kill -9 mid-run: the run starts again within seconds and succeeds before its 10 s deadline', async () => {
    await withStart(async (running, dir) => {
      const file = join(dir, 'ledger.jsonl')
      const submittedAt = Date.now()
      const runId = await submit(running, 'py.nap', { ledger: file, sleep: 2 })
      const [first] = await waitFor(running, 'the graph to start', () => {
        const lines = ledger(file, runId)
        return lines.length > 0 ? lines : undefined
      })
      assert.ok(first)
      process.kill(first.pid, 'SIGKILL')
      const killedAt = Date.now()
      const [, second] = await waitFor(
        running,
        'the run to start again',
        () => {
          const lines = ledger(file, runId)
          return lines.length > 1 ? lines : undefined
        },
        9_000,
      )
      const restartedAfterMs = Date.now() - killedAt
      assert.ok(second)
      assert.notEqual(second.pid, first.pid)
      assert.equal(alive(first.pid), false)
      const body = await runEnded(running, runId, 15_000)
      assert.equal(body.status, 'succeeded', `${JSON.stringify(body)}\n${running.output()}`)
      assert.deepEqual(body.output, { slept: 2 })
      // Well before its deadline: started again within a few seconds of the kill, done by its 2 s sleep after.
      assert.ok(restartedAfterMs < 5_000, `started again ${restartedAfterMs} ms after the kill`)
      assert.ok(Date.now() - submittedAt < 10_000, `ended ${Date.now() - submittedAt} ms after it was submitted`)
      assert.equal(ledger(file, runId).length, 2)
    })
  })

  void test('a graph that kills its own process every time ends WORKER_CRASHED after 2 crashes, never started a third time', async () => {
    await withStart(async (running, dir) => {
      const file = join(dir, 'ledger.jsonl')
      const submittedAt = Date.now()
      const runId = await submit(running, 'poison.die', { ledger: file })
      const body = await runEnded(running, runId, 25_000)
      assert.equal(body.status, 'failed', JSON.stringify(body))
      assert.equal(body.error?.code, 'WORKER_CRASHED', `${JSON.stringify(body)}\n${running.output()}`)
      assert.match(body.error?.message ?? '', new RegExp(`run ${runId} was dead-lettered after its worker died under it 2 times`))
      // Dead-lettered on the second crash, long before its 30 s deadline (not WORKER_LOST, not a stalled-job check).
      assert.ok(Date.now() - submittedAt < 25_000)
      const starts = ledger(file, runId)
      assert.equal(starts.length, 2, JSON.stringify(starts))
      assert.notEqual(starts[0]?.pid, starts[1]?.pid)

      // The pool recovers by itself and serves the next run; the poison run is not taken again.
      const next = await submit(running, 'poison.nap', { ledger: file, sleep: 0 })
      const served = await runEnded(running, next, 60_000)
      assert.equal(served.status, 'succeeded', `${JSON.stringify(served)}\n${running.output()}`)
      assert.equal(ledger(file, runId).length, 2)
    })
  })
})
