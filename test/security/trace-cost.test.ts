// A trace id is no secret, and anyone with a `run` token may post spans under one (its own,
// into `_other`). Piling spans under another run's trace id must not make the gateway do
// work in proportion to them when a caller names that trace: joining it (traceparent)
// and the read-scope check of GET /v1/traces/{id} are answered from the store's index of
// whose the trace is, before (or without) a line of the trace is read. Here every stored
// line is made unreadable after the fact, sizes kept: the answers must not change.
import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { ATTR } from '../../src/control/index.js'
import { MemoryBroker } from '../../src/data/broker/memory/index.js'
import { startGateway } from '../../src/gateway/index.js'
import { tokenDigest } from '../../src/gateway/tokens-file.js'
import { get, post, writeRegistry } from '../gateway/fixture.js'
import { spansOf } from '../helpers/spans.js'

void test("naming a trace with many spans of others' in traceparent, or reading it out of scope, reads none of them", async () => {
  const { registry, dir } = writeRegistry()
  const broker = new MemoryBroker({ pools: registry.pools.values() })
  broker.source('email').start(async () => ({ ok: true, output: {} }), { concurrency: 2 })
  const traceDir = mkdtempSync(join(tmpdir(), 'switchyard-trace-cost-'))
  const gateway = await startGateway({
    registry,
    broker,
    port: 0,
    signingKey: null,
    traceDir,
    tokens: [
      { digest: tokenDigest('runner'), grant: { name: 'runner', roles: ['run'], workflows: ['echo.say'] } },
      { digest: tokenDigest('quiet-reader'), grant: { name: 'quiet-reader', roles: ['read'], workflows: ['quiet.say'] } },
    ],
  })
  try {
    const store = gateway.traceStore
    assert.ok(store)
    const traceId = 'ab'.repeat(16)
    const span = spansOf(traceId)
    // Another caller's run of echo.say, as the gateway recorded it ...
    await store.add([
      span(
        'sales-email',
        { kind: 'server', name: 'POST /v1/workflows/{name}/run' },
        { [ATTR.workflow]: 'echo.say', [ATTR.pool]: 'email', [ATTR.caller]: 'token:someone-else' },
      ),
    ])
    // ... and megabytes of spans posted under its id by a caller, and under an id of their own.
    const piled = Array.from({ length: 4000 }, () => span('_other', { sender: { id: 'token:x' } }, { pad: 'p'.repeat(400) }))
    await store.add(piled)
    const junkId = 'cd'.repeat(16)
    await store.add(piled.map((s) => ({ ...s, traceId: junkId })))
    let bytes = 0
    for (const project of readdirSync(traceDir)) {
      for (const name of readdirSync(join(traceDir, project))) {
        const path = join(traceDir, project, name)
        const size = statSync(path).size
        bytes += size
        writeFileSync(path, Buffer.alloc(size, '#'))
      }
    }
    assert.ok(bytes > 1_000_000, `${bytes} bytes stored`)

    // The runner is not the trace's caller: its run gets a trace of its own.
    const run = await post(
      `${gateway.url}/v1/workflows/echo.say/run`,
      { text: 'hi' },
      {
        authorization: 'Bearer runner',
        traceparent: `00-${traceId}-0102030405060708-01`,
      },
    )
    assert.equal(run.status, 200, JSON.stringify(run.body))
    const got = run.headers.get('x-switchyard-trace-id')
    assert.match(got ?? '', /^[0-9a-f]{32}$/)
    assert.notEqual(got, traceId)

    // A reader of quiet.say only may not read a trace of echo.say's run: refused before the read.
    const read = await get(`${gateway.url}/v1/traces/${traceId}`, { authorization: 'Bearer quiet-reader' })
    assert.equal(read.status, 403, JSON.stringify(read.body))
    // A trace of no run at all is an unrestricted reader's only: refused as well, unread.
    const junk = await get(`${gateway.url}/v1/traces/${junkId}`, { authorization: 'Bearer quiet-reader' })
    assert.equal(junk.status, 403, JSON.stringify(junk.body))
    // A trace nothing was stored for is still a 404.
    assert.equal((await get(`${gateway.url}/v1/traces/${'ef'.repeat(16)}`, { authorization: 'Bearer quiet-reader' })).status, 404)
  } finally {
    await gateway.close()
    await broker.close()
    rmSync(traceDir, { recursive: true, force: true })
    rmSync(dir, { recursive: true, force: true })
  }
})
