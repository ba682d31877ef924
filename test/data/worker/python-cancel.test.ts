// Issue 13.6 for Python pools: POST /v1/runs/{id}/cancel through a real gateway stops a
// queued Python run (it never starts) and a running one (its graph's task is cancelled, it
// reads run.abort_reason, and the run reads `cancelled`), on `switchyard start` (Redis:
// the worker subscribes to its pool's cancel channel) with and without the Redis ACL users
// `switchyard acl` prints, and on `switchyard dev` (the embedded broker's IPC cancel message).
import assert from 'node:assert/strict'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, test } from 'node:test'

import { aclUsers } from '../../helpers/pool-acl.js'
import { redisSkip } from '../../helpers/redis.js'
import type { Launched } from '../../helpers/start.js'
import { submitAsync, waitFor, withLaunched } from '../../helpers/start-project.js'
import { pythonSkip } from '../../helpers/python.js'

const REGISTRY = `version: 1
pools:
  py:
    runtime: python
    env: env/py.env
    concurrency: 1
    processes: 1
    timeout: 2m
workflows:
  py.watch:
    pool: py
    graph: watch.py#graph
    input: { type: object }
    description: Waits until it is cancelled and writes down what it saw.
`

// Module-level imports: only typing, __future__ and switchyard_worker (switchyard check's lint).
const GRAPH = `from __future__ import annotations

from typing import Any


async def graph(input: Any, run: Any) -> Any:
    import asyncio
    import json
    import pathlib

    pathlib.Path(input["file"] + ".started").write_text("")
    try:
        await asyncio.sleep(600)
    except asyncio.CancelledError:
        reason = run.abort_reason
        seen = {"code": reason.code, "message": reason.message, "retryable": reason.retryable, "event": run.cancelled.is_set()}
        pathlib.Path(input["file"]).write_text(json.dumps(seen))
        raise
    return {"slept": True}
`

const PROJECT = { tag: 'python-cancel', files: { 'watch.py': GRAPH, 'switchyard.yaml': REGISTRY, 'env/py.env': '' } }

interface RunBody {
  readonly status: string
  readonly error?: { readonly code: string; readonly message: string }
}

/** Through the gateway: a running run and a queued one of the one-at-a-time pool, both cancelled. */
async function cancelBoth(running: Launched, dir: string): Promise<void> {
  const gateway = running.url
  const submit = (input: object) => submitAsync(running, 'py.watch', input)
  const cancel = async (runId: string) => {
    const response = await fetch(`${gateway}/v1/runs/${runId}/cancel`, { method: 'POST' })
    return { status: response.status, body: (await response.json()) as RunBody }
  }
  const read = async (runId: string) => (await (await fetch(`${gateway}/v1/runs/${runId}`)).json()) as RunBody

  const runningFile = join(dir, 'running.json')
  const queuedFile = join(dir, 'queued.json')
  const runningId = await submit({ file: runningFile })
  await waitFor(running, 'the python graph to start', () => existsSync(`${runningFile}.started`), 60_000)
  const queuedId = await submit({ file: queuedFile })
  assert.equal((await read(queuedId)).status, 'queued')

  const queued = await cancel(queuedId)
  assert.equal(queued.status, 200, JSON.stringify(queued.body))
  assert.equal(queued.body.status, 'cancelled')
  assert.equal(queued.body.error?.message, `run ${queuedId} was cancelled while queued (POST /v1/runs/${queuedId}/cancel)`)

  const cancelling = await cancel(runningId)
  assert.ok([200, 202].includes(cancelling.status), `${cancelling.status} ${JSON.stringify(cancelling.body)}\n${running.output()}`)
  await waitFor(running, 'the graph to see its abort', () => existsSync(runningFile), 20_000)
  const words = `run ${runningId} was cancelled while running (POST /v1/runs/${runningId}/cancel)`
  assert.deepEqual(JSON.parse(readFileSync(runningFile, 'utf8')), { code: 'CANCELLED', message: words, retryable: false, event: true })
  const ended = await waitFor(
    running,
    'the run to read cancelled',
    async () => {
      const body = await read(runningId)
      return body.status === 'cancelled' ? body : undefined
    },
    20_000,
  )
  assert.equal(ended.error?.code, 'CANCELLED')
  assert.equal(ended.error?.message, words)
  // Again on a cancelled run: 200 with the run, as node's.
  const again = await cancel(runningId)
  assert.equal(again.status, 200)
  assert.equal(again.body.status, 'cancelled')

  // The pool is free again and takes the next run; the cancelled queued run is not among them.
  const nextFile = join(dir, 'next.json')
  await submit({ file: nextFile })
  await waitFor(running, 'the next run to start', () => existsSync(`${nextFile}.started`), 30_000)
  assert.equal(existsSync(`${queuedFile}.started`), false)
  assert.doesNotMatch(running.output(), /cannot listen for cancels|NOPERM/)
}

void describe('cancel of Python runs through the gateway', { skip: pythonSkip(['opentelemetry.sdk', 'jsonschema', 'bullmq']) }, () => {
  void test('switchyard start, one Redis user for all', { skip: redisSkip() }, async () => {
    await withLaunched('start', PROJECT, cancelBoth)
  })

  void test(
    'switchyard start with the users `switchyard acl` prints (the pool may only SUBSCRIBE to its own channel)',
    { skip: redisSkip() },
    async () => {
      await withLaunched('start', PROJECT, cancelBoth, {
        env: async (redis, dir) => {
          const url = await aclUsers(join(dir, 'switchyard.yaml'), redis.url, redis.port)
          writeFileSync(join(dir, 'env', 'py.env'), `SWITCHYARD_REDIS_URL=${url('switchyard-pool-py')}\n`)
          return { SWITCHYARD_REDIS_URL: url('switchyard-gateway') }
        },
      })
    },
  )

  void test('switchyard dev (the embedded broker)', async () => {
    await withLaunched('dev', PROJECT, cancelBoth)
  })
})
