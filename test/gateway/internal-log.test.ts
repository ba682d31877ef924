// Every 500 reaches the gateway's log with its cause, also a fault a handler has
// already wrapped as INTERNAL (route() failing on a registry built by hand).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Registry, Workflow } from '../../src/control/index.js'
import { MemoryBroker } from '../../src/data/broker/memory/index.js'
import { startGateway } from '../../src/gateway/index.js'
import { post, writeRegistry } from './fixture.js'
import { rmSync } from 'node:fs'

void test('an INTERNAL fault in route() answers 500 and is logged with its stack', async () => {
  const { registry: loaded, dir } = writeRegistry()
  const echo = loaded.workflows.get('echo.say') as Workflow
  // Built by hand, with an input schema Ajv refuses: route() cannot compile its validator.
  const broken: Workflow = { ...echo, name: 'echo.say', input: { type: 'strin' } as unknown as Workflow['input'] }
  const registry: Registry = { ...loaded, workflows: new Map([['echo.say', broken]]) }
  const broker = new MemoryBroker({ pools: registry.pools.values() })
  const logged: { msg: string; fields: Record<string, unknown> | undefined }[] = []
  const gateway = await startGateway({
    registry,
    broker,
    port: 0,
    tokens: null,
    signingKey: null,
    log: { error: (msg: string, fields?: Record<string, unknown>) => void logged.push({ msg, fields }) },
  })
  try {
    const res = await post(`${gateway.url}/v1/workflows/echo.say/run`, { text: 'hi' })
    assert.equal(res.status, 500)
    assert.deepEqual(
      [(res.body as { code: string }).code, (res.body as { detail: string }).detail],
      ['INTERNAL', 'internal error; see the gateway log'],
    )
    assert.equal(logged.length, 1)
    assert.equal(logged[0]?.msg, 'request failed')
    assert.equal(logged[0]?.fields?.method, 'POST')
    assert.equal(logged[0]?.fields?.url, '/v1/workflows/echo.say/run')
    assert.match(String(logged[0]?.fields?.error), /^Error: input schema of workflow 'echo\.say' is invalid\n\s+at /)
  } finally {
    await gateway.close()
    await broker.close()
    rmSync(dir, { recursive: true, force: true })
  }
})
