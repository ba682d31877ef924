// A Python pool's queued run ends at its deadline through the gateway's expiry pass
// (src/data/broker/redis/expiry.ts), now that the Python worker keeps the pool's
// `sy-deadlines` set as the node worker does (python/switchyard_worker/redis_source.py): on
// `switchyard start` (Redis), a run taken leaves the set; its first attempt fails, and the
// retry BullMQ queues after its backoff goes back into it with its deadline; the pool's one
// slot is held meanwhile by a longer run, so no worker takes the retry, and the gateway's pass
// ends it DEADLINE_EXCEEDED at its deadline (the metric counts it) while that run still holds
// the slot. A worker that dropped the entry and never wrote it back would leave the retry
// queued until the slot frees. The set itself, take by take: python/tests/test_deadlines.py.
import assert from 'node:assert/strict'
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, test } from 'node:test'

import { Queue } from 'bullmq'

import { EXPIRED_MESSAGE } from '../../../src/data/broker/run-errors.js'
import { poolKeys } from '../../../src/data/broker/redis/keys.js'
import { sampleValue } from '../../helpers/prometheus.js'
import { pythonSkip } from '../../helpers/python.js'
import { redisSkip } from '../../helpers/redis.js'
import { runEnded, submitAsync as submit, waitFor, withLaunched } from '../../helpers/start-project.js'

const REGISTRY = `version: 1
pools:
  py:
    runtime: python
    env: env/py.env
    concurrency: 1
    processes: 1
    timeout: 60s
    retries: 1
workflows:
  py.hold:
    pool: py
    graph: graphs.py#hold
    timeout: 5s
    input: { type: object }
    description: Waits for its go file; fails on the attempts input.fail lists.
  py.block:
    pool: py
    graph: graphs.py#hold
    input: { type: object }
    description: The same graph with the pool's long deadline, to hold the pool's one slot.
`

// Module-level imports: only typing, __future__ and switchyard_worker (switchyard check's lint).
const GRAPHS = `from __future__ import annotations

from typing import Any


async def hold(input: Any, run: Any) -> Any:
    import asyncio
    import os

    base = os.path.join(input["dir"], f"{run.run_id}.{run.attempt}")
    open(base + ".started", "w").close()
    while not os.path.exists(base + ".go"):
        await asyncio.sleep(0.02)
    if run.attempt in input.get("fail", []):
        raise RuntimeError(f"attempt {run.attempt} fails")
    return {"attempt": run.attempt}
`

const PROJECT = { tag: 'python-deadlines', files: { 'graphs.py': GRAPHS, 'switchyard.yaml': REGISTRY, 'env/py.env': '' } }

void describe(
  'a Python pool on Redis: the deadline set',
  { skip: redisSkip() || pythonSkip(['opentelemetry.sdk', 'jsonschema', 'bullmq']) },
  () => {
    void test('a taken run leaves the set, its retry goes back into it, and the expiry pass ends the retry queued at its deadline', async () => {
      let url = ''
      const env = async (redis: { url: string }) => {
        url = redis.url
        return { SWITCHYARD_REDIS_URL: redis.url }
      }
      await withLaunched(
        'start',
        PROJECT,
        async (running, dir) => {
          const keys = poolKeys('bull', 'switchyard.py')
          const queue = new Queue('switchyard.py', { connection: { url }, prefix: 'bull' })
          try {
            const client = await queue.client
            const entry = async (runId: string) => client.zscore(keys.deadlines, runId)
            const read = async (runId: string) =>
              (await (await fetch(`${running.url}/v1/runs/${runId}`)).json()) as { status: string; deadline: string }

            const runId = await submit(running, 'py.hold', { dir, fail: [1] })
            const { deadline } = await read(runId)
            await waitFor(running, 'attempt 1 to start', () => existsSync(join(dir, `${runId}.1.started`)) || undefined, 60_000)
            assert.equal(await entry(runId), null, 'a run taken is not in the deadline set')

            // The pool's one slot goes to a longer run as soon as attempt 1 fails.
            const blocker = await submit(running, 'py.block', { dir })
            writeFileSync(join(dir, `${runId}.1.go`), '')
            await waitFor(running, 'the longer run to start', () => existsSync(join(dir, `${blocker}.1.started`)) || undefined, 20_000)
            assert.ok(['delayed', 'waiting'].includes(await queue.getJobState(runId)))
            assert.equal(Number(await entry(runId)), Date.parse(deadline), 'its retry is back in the set, at its deadline')

            const ended = await runEnded(running, runId, 20_000)
            assert.equal(ended.status, 'failed', JSON.stringify(ended))
            assert.deepEqual(ended.error, { code: 'DEADLINE_EXCEEDED', message: EXPIRED_MESSAGE, retryable: false })
            // Ended by the pass, while the longer run still held the slot: no worker took the retry.
            assert.equal(await queue.getJobState(blocker), 'active')
            assert.equal(existsSync(join(dir, `${runId}.2.started`)), false)
            const metrics = await (await fetch(`${running.url}/metrics`)).text()
            assert.equal(sampleValue(metrics, 'switchyard_gateway_runs_expired_total', { pool: 'py' }), 1)
            assert.equal(await entry(runId), null)

            writeFileSync(join(dir, `${blocker}.1.go`), '')
            const done = await runEnded(running, blocker, 20_000)
            assert.equal(done.status, 'succeeded', JSON.stringify(done))
            assert.equal(await entry(blocker), null)
          } finally {
            await queue.close()
          }
        },
        { env },
      )
    })
  },
)
