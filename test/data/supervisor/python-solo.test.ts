// A run whose Python worker died under it runs alone in its next process (redis_source.py),
// under `switchyard start` on Redis, as the node worker's does: one process of concurrency 4
// takes a poison run and 3 innocent runs; the poison kills its process (kill -9) once all 4 are
// in flight there, so the supervisor's reaper counts a crash against each of the 4 and puts
// them back. In the restarted process each runs alone (the others are handed back unrun and
// counted in sy-unrun, which the TypeScript reaper subtracts): the 3 innocents succeed, and the
// poison, killing its process again with nothing else in flight, ends WORKER_CRASHED alone.
// Without it the restarted process takes all 4 at once and the poison's second kill
// dead-letters the innocents beside it. Each graph start appends a ledger line and marks itself
// in flight in a folder of its process's pid until it ends.
import assert from 'node:assert/strict'
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { describe, test } from 'node:test'

import { redisSkip } from '../../helpers/redis.js'
import { runEnded, submitAsync as submit, withLaunched } from '../../helpers/start-project.js'
import { pythonSkip } from '../../helpers/python.js'

const PYTHON_SKIP = pythonSkip(['opentelemetry.sdk', 'jsonschema', 'bullmq'])

const REGISTRY = `version: 1
pools:
  py:
    runtime: python
    env: env/py.env
    concurrency: 4
    processes: 1
    timeout: 60s
workflows:
  py.nap:
    pool: py
    graph: graphs.py#nap
    input: { type: object }
    description: Sleeps long on its first start (in flight when the poison strikes), briefly after.
  py.poison:
    pool: py
    graph: graphs.py#poison
    input: { type: object }
    description: Kills its own process (kill -9) once 4 runs are in flight there, and at once on a later start.
`

// Module-level imports: only typing, __future__ and switchyard_worker (switchyard check's lint).
const GRAPHS = `from __future__ import annotations

from typing import Any


def _start(input: Any, run: Any) -> tuple[bool, str]:
    """Ledger line; marks the run in flight in its process's folder. True on the run's first start."""
    import json
    import os

    path = input["ledger"]
    first = not os.path.exists(path) or all(json.loads(line)["run"] != run.run_id for line in open(path, encoding="utf-8") if line.strip())
    with open(path, "a", encoding="utf-8") as file:
        file.write(json.dumps({"run": run.run_id, "pid": os.getpid()}) + "\\n")
    mine = os.path.join(input["dir"], str(os.getpid()))
    os.makedirs(mine, exist_ok=True)
    open(os.path.join(mine, run.run_id), "w").close()
    return first, mine


async def nap(input: Any, run: Any) -> Any:
    import asyncio
    import os

    first, mine = _start(input, run)
    await asyncio.sleep(20 if first else 0.2)
    os.remove(os.path.join(mine, run.run_id))
    return {"napped": True}


async def poison(input: Any, run: Any) -> Any:
    import asyncio
    import os
    import signal

    first, mine = _start(input, run)
    while first and len(os.listdir(mine)) < 4:
        await asyncio.sleep(0.05)
    os.kill(os.getpid(), signal.SIGKILL)
    return {"unreachable": True}
`

interface Line {
  readonly run: string
  readonly pid: number
}

function ledger(file: string): Line[] {
  if (!existsSync(file)) return []
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Line)
}

const PROJECT = { tag: 'python-solo', files: { 'graphs.py': GRAPHS, 'switchyard.yaml': REGISTRY, 'env/py.env': '' } }

void describe('innocent runs that shared a Python process with a poison run (Redis)', { skip: redisSkip() || PYTHON_SKIP }, () => {
  void test('each runs alone in the next process: the 3 innocents succeed, the poison alone ends WORKER_CRASHED', async () => {
    await withLaunched('start', PROJECT, async (running, dir) => {
      const file = join(dir, 'ledger.jsonl')
      const input = { ledger: file, dir }
      const innocents = [
        await submit(running, 'py.nap', input),
        await submit(running, 'py.nap', input),
        await submit(running, 'py.nap', input),
      ]
      const poison = await submit(running, 'py.poison', input)

      const body = await runEnded(running, poison, 60_000)
      assert.equal(body.status, 'failed', JSON.stringify(body))
      assert.equal(body.error?.code, 'WORKER_CRASHED', `${JSON.stringify(body)}\n${running.output()}`)
      assert.match(body.error?.message ?? '', new RegExp(`run ${poison} was dead-lettered after its worker died under it 2 times`))
      for (const runId of innocents) {
        const innocent = await runEnded(running, runId, 60_000).catch((error: unknown) => {
          throw new Error(`${String(error)}\n${JSON.stringify(ledger(file))}`)
        })
        assert.equal(
          innocent.status,
          'succeeded',
          `${runId}: ${JSON.stringify(innocent)}\n${JSON.stringify(ledger(file))}\n${running.output()}`,
        )
        assert.deepEqual(innocent.output, { napped: true })
      }

      const lines = ledger(file)
      const starts = (runId: string) => lines.filter((line) => line.run === runId)
      const [first, second] = starts(poison)
      assert.equal(starts(poison).length, 2, JSON.stringify(lines))
      assert.ok(first && second)
      assert.notEqual(first.pid, second.pid)
      for (const runId of innocents) {
        // Each shared the poison's first process, and ran again (once) after it died.
        const [shared, again] = starts(runId)
        assert.equal(shared?.pid, first.pid, JSON.stringify(lines))
        assert.equal(starts(runId).length, 2, JSON.stringify(lines))
        assert.notEqual(again?.pid, first.pid)
      }
      // The first process died with all 4 in flight; the poison's second process, with only the poison.
      assert.deepEqual(readdirSync(join(dir, String(first.pid))).sort(), [...innocents, poison].sort())
      assert.deepEqual(readdirSync(join(dir, String(second.pid))), [poison])
    })
  })
})
