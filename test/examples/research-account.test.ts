// End to end, once on the embedded broker (switchyard dev) and once on Redis (switchyard
// start): the typed TypeScript client → the gateway → the Python worker running the
// LangGraph Python sample (examples/sales research.account) → one trace holding the
// client's span, the gateway's, the Python process's run, node and `chat` spans, with
// tokens and cost. Real processes, real Redis, the offline model.
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'

import { createClient } from '../../src/client/index.js'
import type { StoredSpan } from '../../src/observe/store/index.js'
import { initTracing, type Tracing } from '../../src/observe/sdk/index.js'
import { eventually } from '../helpers/eventually.js'
import { redisSkip, startRedis, type RedisServer } from '../helpers/redis.js'
import { SALES } from './workflow-kit.js'
import { PYTHON, pythonSkip } from '../helpers/python.js'

const REPO = join(import.meta.dirname, '../..')

/** research.account's types, as `switchyard codegen` writes them from its schemas. */
interface Workflows {
  'research.account': {
    input: { name: string; domain: string; country?: string; city?: string; industry?: string; employees?: number; reasons?: string[] }
    output: {
      company: string
      domain: string
      summary: string
      whyNow: string
      talkingPoints: string[]
      risks: string[]
      firstQuestion: string
      sources: string[]
      model: string
    }
  }
}

const PYTHON_SKIP = pythonSkip(['langgraph', 'opentelemetry.sdk', 'bullmq'], "python3 -m pip install './python[langgraph]'")

interface Served {
  readonly url: string
  readonly output: () => string
  stop(): Promise<number | null>
}

/** `switchyard <command>` (dev or start) on the research pool alone, until its Python worker serves. */
async function serve(command: 'dev' | 'start', config: string, args: readonly string[]): Promise<Served> {
  const child: ChildProcess = spawn(
    process.execPath,
    [join(REPO, 'bin', 'switchyard.js'), command, '--config', config, '--port', '0', ...args],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, SWITCHYARD_TOKENS: '', SWITCHYARD_SIGNING_KEY: '', SWITCHYARD_PYTHON: PYTHON },
    },
  )
  let text = ''
  child.stdout?.on('data', (chunk: Buffer) => (text += chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString()))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT')
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
    const code = await exited
    clearTimeout(timer)
    return code
  }
  try {
    const url = await eventually('the gateway URL', () => /gateway (http:\/\/[\d.:]+)/.exec(text)?.[1], 60_000)
    // Ready means: the broker answers and the Python worker is counted as the pool's worker.
    await eventually('/readyz', async () => ((await fetch(`${url}/readyz`)).status === 200 ? true : undefined), 60_000)
    return { url, output: () => text, stop }
  } catch (error) {
    await stop()
    throw new Error(`${(error as Error).message}\n${text}`)
  }
}

let dir: string
let config: string

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'switchyard-research-'))
  cpSync(SALES, dir, { recursive: true, filter: (src) => !src.includes('.switchyard') })
  // The sales registry's research pool and workflow alone: a fast start.
  const sales = readFileSync(join(dir, 'switchyard.yaml'), 'utf8')
  const pool = /\n {2}research:\n[\s\S]*?\n\n/.exec(sales)?.[0] ?? ''
  const workflow = /\n {2}research\.account:\n[\s\S]*$/.exec(sales)?.[0] ?? ''
  assert.ok(pool && workflow, 'examples/sales/switchyard.yaml has the research pool and research.account')
  config = join(dir, 'research.yaml')
  writeFileSync(config, `version: 1\npools:${pool}workflows:${workflow}`)
})
after(() => rmSync(dir, { recursive: true, force: true }))

async function oneTrace(served: Served, tracing: Tracing, project: string): Promise<void> {
  // The trace id the gateway answers with, read off the response as `switchyard run --trace` does.
  let traceId = ''
  const recording: typeof fetch = async (input, init) => {
    const response = await fetch(input, init)
    traceId = response.headers.get('x-switchyard-trace-id') ?? traceId
    return response
  }
  const client = createClient<Workflows>({
    url: served.url,
    fetch: recording,
    tracer: tracing.tracerProvider.getTracer('switchyard-client'),
  })
  const example = JSON.parse(
    readFileSync(join(dir, 'workflows/research-account/example.json'), 'utf8'),
  ) as Workflows['research.account']['input']
  const brief = await client.run('research.account', example, { timeout: 60_000 })
  assert.equal(brief.company, 'Truepoint Last-mile ApS')
  assert.equal(brief.model, 'offline')
  assert.match(brief.whyNow, /hiring account executives/)
  assert.match(traceId, /^[0-9a-f]{32}$/)
  await tracing.forceFlush()

  const names = [
    'client run research.account',
    'route research.account',
    'enqueue research',
    'run research.account',
    'node gather',
    'node brief',
    'node finish',
    'chat offline',
  ]
  const spans = await eventually(
    'the whole trace in the store',
    async () => {
      const res = await fetch(`${served.url}/v1/traces/${traceId}`)
      if (res.status !== 200) return undefined
      const { spans } = (await res.json()) as { spans: StoredSpan[] }
      return names.every((name) => spans.some((s) => s.name === name)) ? spans : undefined
    },
    30_000,
  ).catch((error: Error) => {
    throw new Error(`${error.message}\n${served.output()}`)
  })
  const byName = (name: string) => spans.find((s) => s.name === name)!
  assert.ok(
    spans.every((s) => s.traceId === traceId),
    'one trace id',
  )
  const client_ = byName('client run research.account')
  const request = spans.find((s) => s.service === 'switchyard-gateway' && s.parentSpanId === client_.spanId)
  assert.ok(request, 'the gateway request span is a child of the client span')
  assert.equal(byName('route research.account').parentSpanId, request.spanId)
  const run = byName('run research.account')
  assert.equal(run.parentSpanId, byName('enqueue research').spanId)
  assert.equal(run.service, 'switchyard-pool-research')
  assert.equal(run.project, project)
  for (const node of ['gather', 'brief', 'finish']) {
    const span = byName(`node ${node}`)
    assert.equal(span.parentSpanId, run.spanId, `node ${node} under the run span`)
    assert.equal(span.service, 'switchyard-pool-research')
  }
  const chat = byName('chat offline')
  assert.equal(chat.parentSpanId, byName('node brief').spanId, 'the model call under its node')
  assert.equal(chat.attributes['gen_ai.system'], 'offline')
  assert.equal(chat.attributes['gen_ai.operation.name'], 'chat')
  assert.equal(chat.attributes['switchyard.model.call'], 'brief')
  assert.ok(Number(chat.attributes['gen_ai.usage.input_tokens']) > 100, JSON.stringify(chat.attributes))
  assert.ok(Number(chat.attributes['gen_ai.usage.output_tokens']) > 10)
  assert.equal(chat.attributes['switchyard.model.cost_usd'], 0)
}

void describe('research.account end to end', { skip: PYTHON_SKIP }, () => {
  let tracing: Tracing

  void test('on the embedded broker (switchyard dev): client → gateway → Python worker, one trace', async () => {
    const served = await serve('dev', config, [])
    try {
      // The client's spans go to the same gateway, as `switchyard run --trace` sends them.
      tracing = initTracing({ service: 'research-e2e-client', env: { SWITCHYARD_TRACES_URL: served.url, OTEL_BSP_SCHEDULE_DELAY: '50' } })
      await oneTrace(served, tracing, 'sales-research')
    } finally {
      assert.equal(await served.stop(), 0, served.output())
    }
  })

  void test('on Redis (switchyard start): the same trace; the Python worker counts for /readyz', { skip: redisSkip() }, async () => {
    let redis: RedisServer | undefined
    let served: Served | undefined
    try {
      redis = await startRedis()
      served = await serve('start', config, ['--redis', redis.url, '--no-auth'])
      const metrics = await (await fetch(`${served.url}/metrics`)).text()
      assert.match(metrics, /switchyard_pool_workers\{pool="research"\} 1\b/)
      // The client's exporter was installed by the first test (one provider per process): it points at
      // that gateway, which is gone, so this client sends its spans with a fresh tracing of its own.
      await tracing?.shutdown()
      tracing = initTracing({
        service: 'research-e2e-client',
        env: { SWITCHYARD_TRACES_URL: served.url, OTEL_BSP_SCHEDULE_DELAY: '50' },
        register: false,
      })
      await oneTrace(served, tracing, 'sales-research')
    } finally {
      if (served) assert.equal(await served.stop(), 0, served.output())
      await redis?.stop()
    }
  })
  after(() => tracing?.shutdown())
})
