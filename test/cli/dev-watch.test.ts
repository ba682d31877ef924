// `switchyard dev --watch` as a person uses it: edit a graph, add a workflow, break the
// registry — each change reloads once, with one line saying so; a run in flight during a
// reload finishes on the code it started with, the next run gets the new code; a registry
// that does not load keeps the last one serving. Without --watch, a workflow added to the
// file since the start is answered with a hint to restart.
import assert from 'node:assert/strict'
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { eventually } from '../helpers/eventually.js'
import { spawnDev, type DevProcess } from './dev-process.js'

const graph = (version: number) => `export function graph() {
  return (input: { waitMs?: number }) =>
    new Promise((resolve) => setTimeout(() => resolve({ version: ${version} }), input.waitMs ?? 0))
}
`

const REGISTRY = `version: 1
pools:
  work:
    timeout: 30s
    retries: 0
    tracing: { project: work, sampleRate: 1.0, capture: full }
workflows:
  hello.version:
    pool: work
    graph: graphs/version.ts#graph
    input: { type: object }
    description: Says which version of its code ran.
`

function project(): string {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-watch-'))
  mkdirSync(join(dir, 'graphs'))
  writeFileSync(join(dir, 'graphs', 'version.ts'), graph(1))
  writeFileSync(join(dir, 'switchyard.yaml'), REGISTRY)
  return dir
}

const ENV = { SWITCHYARD_TOKENS: '', SWITCHYARD_SIGNING_KEY: '', OTEL_SDK_DISABLED: 'true' }

async function run(url: string, workflow: string, input: unknown = {}, headers: Record<string, string> = {}) {
  const response = await fetch(`${url}/v1/workflows/${workflow}/run`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(input),
    signal: AbortSignal.timeout(30_000),
  })
  return { status: response.status, body: (await response.json()) as Record<string, unknown> }
}

const reloads = (text: string) => text.split('\n').filter((line) => line.includes(': reloaded after ')).length

void describe('switchyard dev --watch', () => {
  let dir: string
  let dev: DevProcess
  let url: string
  before(async () => {
    dir = project()
    dev = spawnDev(['--config', join(dir, 'switchyard.yaml'), '--port', '0', '--watch'], dir, ENV)
    url = await eventually('the gateway URL', () => /gateway (http:\/\/[\d.:]+)/.exec(dev.text)?.[1], 30_000)
    await eventually('the pool ready', async () => (await fetch(`${url}/readyz`)).status === 200 || undefined, 30_000)
  })
  after(async () => {
    const code = await dev.stop()
    rmSync(dir, { recursive: true, force: true })
    assert.equal(code, 0, dev.text)
  })

  void test('an edited graph: the run in flight finishes on the old code, the next one runs the new code; one line', async () => {
    assert.deepEqual((await run(url, 'hello.version')).body, { version: 1 })
    const slow = await run(url, 'hello.version', { waitMs: 2500 }, { prefer: 'respond-async' })
    assert.equal(slow.status, 202)
    await eventually('the slow run running', async () => {
      const view = (await (await fetch(`${url}/v1/runs/${slow.body.runId as string}`)).json()) as { status: string }
      return view.status === 'running' || undefined
    })
    writeFileSync(join(dir, 'graphs', 'version.ts'), graph(2))
    await eventually('one reload line', () => reloads(dev.text) === 1 || undefined, 20_000).catch((e: Error) => {
      throw new Error(e.message + '\n' + dev.text)
    })
    assert.match(
      dev.text,
      /switchyard dev: reloaded after graphs\/version\.ts changed \(registry unchanged\): pools work restarted; runs in flight finish on the old workers\n/,
    )
    // The new code runs once the new worker is up: a process start, given as long as the first start in before().
    let last: unknown
    const next = await eventually(
      'the new code',
      async () => {
        const answer = await run(url, 'hello.version')
        last = answer
        return answer.status === 200 && answer.body.version === 2 ? answer : undefined
      },
      30_000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}; the last answer: ${JSON.stringify(last)}\n${dev.text}`)
    })
    assert.deepEqual(next.body, { version: 2 })
    const finished = await eventually(
      'the slow run finished',
      async () => {
        const view = (await (await fetch(`${url}/v1/runs/${slow.body.runId as string}`)).json()) as { status: string; output?: unknown }
        return view.status === 'succeeded' || view.status === 'failed' ? view : undefined
      },
      20_000,
    )
    assert.deepEqual([finished.status, finished.output], ['succeeded', { version: 1 }], 'drained on the code it started with')
    assert.equal(reloads(dev.text), 1, 'one save, one reload')
  })

  void test('a workflow added to the registry is served after the reload', async () => {
    assert.equal((await run(url, 'hello.added')).status, 404)
    appendFileSync(
      join(dir, 'switchyard.yaml'),
      '  hello.added:\n    pool: work\n    graph: graphs/version.ts#graph\n    input: { type: object }\n    description: Added while dev ran.\n',
    )
    await eventually('the second reload', () => reloads(dev.text) === 2 || undefined, 20_000)
    assert.match(dev.text, /reloaded after switchyard\.yaml changed \(\+hello\.added\)/)
    const added = await eventually('hello.added served', async () => {
      const answer = await run(url, 'hello.added')
      return answer.status === 200 ? answer : undefined
    })
    assert.deepEqual(added.body, { version: 2 })
  })

  void test('a registry that does not load is reported, and the last one keeps serving', async () => {
    appendFileSync(join(dir, 'switchyard.yaml'), '  broken.one:\n    pool: nowhere\n')
    await eventually('the refusal', () => /the registry does not load, so the pools keep the last one/.test(dev.text) || undefined, 20_000)
    assert.equal(reloads(dev.text), 2)
    assert.deepEqual((await run(url, 'hello.added')).body, { version: 2 })
  })
})

void test('without --watch, a workflow added to the file since the start gets a hint to restart', async () => {
  const dir = project()
  const dev = spawnDev(['--config', join(dir, 'switchyard.yaml'), '--port', '0'], dir, ENV)
  try {
    const url = await eventually('the gateway URL', () => /gateway (http:\/\/[\d.:]+)/.exec(dev.text)?.[1], 30_000)
    const before = await run(url, 'hello.later')
    assert.equal(before.status, 404)
    assert.doesNotMatch(String(before.body.detail), /restart/, 'not in the file: no hint')
    appendFileSync(
      join(dir, 'switchyard.yaml'),
      '  hello.later:\n    pool: work\n    graph: graphs/version.ts#graph\n    input: { type: object }\n    description: Added later.\n',
    )
    const after = await run(url, 'hello.later')
    assert.equal(after.status, 404)
    assert.equal(after.body.code, 'UNKNOWN_WORKFLOW')
    assert.match(
      String(after.body.detail),
      /^unknown workflow 'hello\.later'\..* It is in switchyard\.yaml on disk, but this switchyard dev loaded the registry before it was added: restart it, or run npx switchyard dev --watch to reload on every change\.$/,
    )
    assert.doesNotMatch(dev.text, /reloaded after/)
  } finally {
    const code = await dev.stop()
    rmSync(dir, { recursive: true, force: true })
    assert.equal(code, 0, dev.text)
  }
})
