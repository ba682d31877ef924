// Issue 12.9: a schema `pattern` with catastrophic backtracking stalled every pool for
// 4.4 s from a 43-byte input. Patterns now match in linear time (RE2 through re2js) in
// route()'s input validators (standalone code, cached on disk), through the gateway, and
// in the worker's output checks; a pattern RE2 cannot run is refused at load, by name.
// ^(a+)+$ on 'a' × 40 + '!' takes a backtracking engine about 2^40 steps: without the
// fix these tests do not finish, so their time bounds are generous, never tight.
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'

import { loadRegistry, route, type Registry } from '../../src/control/index.js'
import { MemoryBroker } from '../../src/data/broker/memory/index.js'
import { createWorker, type PoolWorker } from '../../src/data/worker/index.js'
import { startGateway, type Gateway } from '../../src/gateway/index.js'
import { generateSigningKey, verifyKeysFor } from '../../src/data/index.js'
import { post } from '../gateway/fixture.js'

const EVIL = '^(a+)+$'
const ATTACK = `${'a'.repeat(40)}!`

const REGISTRY = `
version: 1
pools:
  work: { timeout: 20s, retries: 0 }
workflows:
  work.name:
    pool: work
    graph: graphs/echo.mjs#graph
    description: Takes a name that is all a's.
    input: { type: object, required: [name], properties: { name: { type: string, pattern: '${EVIL}' } } }
  work.keys:
    pool: work
    graph: graphs/echo.mjs#graph
    description: Keys that are all a's.
    input: { type: object, patternProperties: { '${EVIL}': { type: integer } }, additionalProperties: false }
  work.answer:
    pool: work
    graph: graphs/echo.mjs#answer
    description: Answers with what it was given; its output must be all a's.
    input: { type: object }
    output: { type: object, properties: { name: { type: string, pattern: '${EVIL}' } } }
`
const GRAPHS = `export function graph() { return (input) => input }
export function answer() { return (input) => ({ name: input.name }) }
`

let dir: string
let registry: Registry
let broker: MemoryBroker
let worker: PoolWorker
let gateway: Gateway

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'switchyard-regex-'))
  mkdirSync(join(dir, 'graphs'))
  writeFileSync(join(dir, 'switchyard.yaml'), REGISTRY)
  writeFileSync(join(dir, 'graphs', 'echo.mjs'), GRAPHS)
  registry = loadRegistry(join(dir, 'switchyard.yaml'))
  const key = generateSigningKey()
  broker = new MemoryBroker({ pools: registry.pools.values() })
  worker = createWorker({ pool: 'work', registry, source: broker.source('work'), verifyKeys: verifyKeysFor(key), watchdogGraceMs: null })
  await worker.start()
  gateway = await startGateway({ registry, broker, port: 0, tokens: null, signingKey: key })
})

after(async () => {
  await gateway.close()
  await worker.close()
  await broker.close()
  rmSync(dir, { recursive: true, force: true })
})

function timed<T>(call: () => T): { value: T; ms: number } {
  const started = performance.now()
  const value = call()
  return { value, ms: performance.now() - started }
}

void test('route(): an evil pattern answers at once, and rightly (INVALID_INPUT for the attack, a plan for a match)', () => {
  // A registry loaded again: its validators come from the compiled code on disk, as in every process.
  const fresh = loadRegistry(join(dir, 'switchyard.yaml'))
  const refused = timed(() => {
    try {
      route(fresh, { workflow: 'work.name', input: { name: ATTACK } })
      return null
    } catch (error) {
      return error as { code?: string; message?: string }
    }
  })
  assert.equal(refused.value?.code, 'INVALID_INPUT')
  assert.match(refused.value?.message ?? '', /\/name: must match pattern/)
  assert.ok(refused.ms < 2000, `${refused.ms} ms`)
  assert.equal(route(fresh, { workflow: 'work.name', input: { name: 'a'.repeat(100_000) } }).workflow, 'work.name')
  const keys = timed(() => {
    try {
      route(fresh, { workflow: 'work.keys', input: { [ATTACK]: 1 } })
      return null
    } catch (error) {
      return error as { code?: string }
    }
  })
  assert.equal(keys.value?.code, 'INVALID_INPUT')
  assert.ok(keys.ms < 2000, `${keys.ms} ms`)
})

void test('the gateway: 43 bytes of input no longer stall it; other requests keep being answered', async () => {
  const started = performance.now()
  const attacks = await Promise.all(Array.from({ length: 20 }, () => post(`${gateway.url}/v1/workflows/work.name/run`, { name: ATTACK })))
  for (const res of attacks) {
    assert.equal(res.status, 422)
    assert.equal((res.body as { code: string }).code, 'INVALID_INPUT')
  }
  const ok = await post(`${gateway.url}/v1/workflows/work.name/run`, { name: 'aaaa' })
  assert.equal(ok.status, 200)
  assert.deepEqual(ok.body, { name: 'aaaa' })
  assert.ok(performance.now() - started < 10_000)
})

void test("the worker's output check matches patterns in linear time too", async () => {
  const started = performance.now()
  const res = await post(`${gateway.url}/v1/workflows/work.answer/run`, { name: ATTACK })
  assert.equal(res.status, 502)
  assert.equal((res.body as { code: string }).code, 'OUTPUT_INVALID')
  assert.ok(performance.now() - started < 10_000)
})

void test('a pattern RE2 cannot run (lookahead, backreference) is refused at load, naming it', () => {
  const bad = mkdtempSync(join(tmpdir(), 'switchyard-regex-bad-'))
  try {
    mkdirSync(join(bad, 'graphs'))
    writeFileSync(join(bad, 'graphs', 'echo.mjs'), GRAPHS)
    writeFileSync(
      join(bad, 'switchyard.yaml'),
      REGISTRY.replace(`pattern: '${EVIL}'`, () => "pattern: '^(?=a)a+$'").replace(
        "'^(a+)+$': { type: integer }",
        () => "'(a)\\1': { type: integer }",
      ),
    )
    assert.throws(
      () => loadRegistry(join(bad, 'switchyard.yaml')),
      (error: Error) => {
        assert.match(error.message, /pattern "\^\(\?=a\)a\+\$" cannot be matched in linear time/)
        assert.match(error.message, /pattern "\(a\)\\\\1" cannot be matched in linear time/)
        assert.match(error.message, /switchyard\.yaml:\d+/)
        return true
      },
    )
  } finally {
    rmSync(bad, { recursive: true, force: true })
  }
})
