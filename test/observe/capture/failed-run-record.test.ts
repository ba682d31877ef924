// With `capture: full`, a failed email.compose run leaves a record of what caused it: the
// sales example copied into a project of its own, the real gateway, broker, pool worker
// and graph, and a model server (OpenAI's wire format on loopback) that refuses the call.
// GET /v1/runs/{id} shows the input and the error; the run span holds the input, the
// `chat` span the messages the model was sent (GenAI conventions) and the refusal.
import assert from 'node:assert/strict'
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { loadRegistry, type Registry } from '../../../src/control/index.js'
import { MemoryBroker } from '../../../src/data/broker/memory/index.js'
import { createWorker, type PoolWorker } from '../../../src/data/worker/index.js'
import { startGateway, type Gateway } from '../../../src/gateway/index.js'
import { createModel, silentLogger } from '../../../src/graph/index.js'
import { captureByPool, initTracing, type Tracing } from '../../../src/observe/index.js'
import { startChatServer, type ChatServer } from '../../graph/chat-server.js'

const REPO = join(import.meta.dirname, '../../..')
const REFUSAL = "This model's maximum context length is 8192 tokens. However, your messages resulted in 9120 tokens."

let dir: string
let registry: Registry
let broker: MemoryBroker
let worker: PoolWorker
let gateway: Gateway
let tracing: Tracing
let model: ChatServer
const exporter = new InMemorySpanExporter()

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'switchyard-failed-run-'))
  cpSync(join(REPO, 'examples/sales'), dir, { recursive: true, filter: (src) => !src.includes('.switchyard') })
  mkdirSync(join(dir, 'node_modules'))
  symlinkSync(REPO, join(dir, 'node_modules', 'switchyard-ai'))
  symlinkSync(join(REPO, 'node_modules', '@langchain'), join(dir, 'node_modules', '@langchain'))
  registry = loadRegistry(join(dir, 'switchyard.yaml'))
  assert.equal(registry.pools.get('email')?.tracing.capture, 'full')
  model = await startChatServer(Array.from({ length: 4 }, () => ({ status: 400, error: REFUSAL })))
  // One process plays gateway and email worker: its exporter applies each span's pool capture.
  tracing = initTracing({ service: 'switchyard-gateway', env: {}, exporter, tracing: captureByPool(registry.pools.values()) })
  broker = new MemoryBroker({ pools: registry.pools.values() })
  const log = { ...silentLogger, child: () => silentLogger }
  worker = createWorker({
    pool: 'email',
    registry,
    source: broker.source('email'),
    verifyKeys: null,
    watchdogGraceMs: null,
    log,
    model: createModel(`openai-compatible:${model.baseURL}#gpt-test`, { env: {}, timeoutMs: 5000 }),
  })
  await worker.start()
  gateway = await startGateway({ registry, broker, port: 0, tokens: null, signingKey: null })
})
after(async () => {
  await gateway.close()
  await worker.close()
  await broker.close()
  await tracing.shutdown()
  await model.close()
  rmSync(dir, { recursive: true, force: true })
})

void test('a failed email.compose run: its input and error in GET /v1/runs/{id} and on its spans', async () => {
  const input = JSON.parse(readFileSync(join(dir, 'workflows/email-compose/example.json'), 'utf8')) as { lead: { name: string } }
  const response = await fetch(`${gateway.url}/v1/workflows/email.compose/run`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(input),
  })
  assert.equal(response.status, 502)
  const problem = (await response.json()) as { code: string; detail: string; runId: string }
  assert.equal(problem.code, 'MODEL_FAILED')

  const run = (await (await fetch(`${gateway.url}/v1/runs/${problem.runId}`)).json()) as Record<string, unknown>
  assert.equal(run.status, 'failed')
  assert.equal(run.capture, 'full')
  assert.deepEqual(run.input, input)
  const error = run.error as { code: string; message: string }
  assert.equal(error.code, 'MODEL_FAILED')
  assert.ok(error.message.includes('maximum context length'), error.message)

  await tracing.forceFlush()
  const spans = exporter.getFinishedSpans()
  const byName = (name: string): ReadableSpan => {
    const span = spans.find((s) => s.name === name)
    assert.ok(span, `no span '${name}' among ${spans.map((s) => s.name).join(', ')}`)
    return span
  }
  const runSpan = byName('run email.compose')
  assert.deepEqual(JSON.parse(String(runSpan.attributes['switchyard.input'])), input)
  assert.equal(runSpan.attributes['switchyard.output'], undefined)
  assert.equal(runSpan.attributes['switchyard.error.code'], 'MODEL_FAILED')
  assert.ok(runSpan.status.message?.includes('maximum context length'))

  const chat = byName('chat gpt-test')
  const sent = JSON.parse(String(chat.attributes['gen_ai.input.messages'])) as Array<{
    role: string
    parts: Array<{ type: string; content: string }>
  }>
  assert.equal(sent[0]?.role, 'user')
  assert.equal(sent[0]?.parts[0]?.type, 'text')
  assert.ok(sent[0]?.parts[0]?.content.includes(input.lead.name), 'the prompt the model was sent, with the lead in it')
  assert.equal(chat.attributes['gen_ai.output.messages'], undefined, 'the model answered nothing')
  assert.equal(chat.attributes['switchyard.error.code'], 'MODEL_FAILED')
})
