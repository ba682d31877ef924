import assert from 'node:assert/strict'
import { after, afterEach, before, describe, it } from 'node:test'
import { createModel } from '../../src/graph/index.js'
import { startChatServer, type ChatServer, type Reply } from './chat-server.js'
import { recordSpans } from './spans.js'

const schema = {
  type: 'object',
  properties: { country: { type: ['string', 'null'], pattern: '^[A-Z]{2}$' }, confidence: { type: 'number', minimum: 0, maximum: 1 } },
  required: ['country', 'confidence'],
  additionalProperties: false,
} as const
const messages = [
  { role: 'system' as const, content: 'You classify leads by country.' },
  { role: 'user' as const, content: 'Acme GmbH, Berlin' },
]
const prices = { 'openai-compatible:llama3.1': { input: 1, output: 2 } }

void describe('openai-compatible provider (local chat-completions server)', () => {
  let server: ChatServer
  let spans: ReturnType<typeof recordSpans>
  before(() => (spans = recordSpans()))
  after(() => spans.stop())
  afterEach(() => server.close())

  async function modelWith(replies: Reply[], timeoutMs = 5000) {
    server = await startChatServer(replies)
    spans.exporter.reset()
    return createModel(`openai-compatible:${server.baseURL}#llama3.1`, { env: {}, prices, timeoutMs })
  }

  void it('generates text, with token usage and cost on the span', async () => {
    const model = await modelWith([{ content: 'Hello there.', usage: { prompt_tokens: 1000, completion_tokens: 500 } }])
    const result = await model.generate({ messages, temperature: 0.2, maxTokens: 50 })
    assert.equal(result.text, 'Hello there.')
    assert.deepEqual(result.usage, { inputTokens: 1000, outputTokens: 500 })
    assert.equal(result.costUsd, 0.002)
    assert.equal(result.offline, false)
    const body = server.requests[0]
    assert.equal(body?.model, 'llama3.1')
    assert.equal(body?.temperature, 0.2)
    assert.equal(body?.max_tokens, 50)
    const [span] = spans.exporter.getFinishedSpans()
    assert.equal(span?.name, 'chat llama3.1')
    assert.equal(span?.attributes['gen_ai.system'], 'openai_compatible')
    assert.equal(span?.attributes['gen_ai.usage.input_tokens'], 1000)
    assert.equal(span?.attributes['gen_ai.usage.output_tokens'], 500)
    assert.equal(span?.attributes['switchyard.model.cost_usd'], 0.002)
    assert.equal(span?.attributes['switchyard.model.offline'], false)
  })

  void it('returns a schema-valid object', async () => {
    const model = await modelWith([{ content: '{"country":"DE","confidence":0.9}' }])
    const result = await model.generate({ messages, schema })
    assert.deepEqual(result.object, { country: 'DE', confidence: 0.9 })
    const format = server.requests[0]?.response_format as { type: string; json_schema: { schema: unknown } }
    assert.equal(format.type, 'json_schema')
    assert.deepEqual(format.json_schema.schema, schema)
  })

  void it('retries an answer that does not fit the schema once, telling the model what was wrong', async () => {
    const model = await modelWith([{ content: '{"country":"Germany","confidence":0.9}' }, { content: '{"country":"DE","confidence":0.9}' }])
    const result = await model.generate({ messages, schema })
    assert.deepEqual(result.object, { country: 'DE', confidence: 0.9 })
    assert.equal(server.requests.length, 2)
    const retry = server.requests[1]?.messages as Array<{ role: string; content: string }>
    assert.equal(
      retry.at(-1)?.content,
      'That answer does not fit the required JSON Schema (/country: must match pattern "^[A-Z]{2}$"). Answer again with only a JSON object that fits it.',
    )
    assert.deepEqual(result.usage, { inputTokens: 240, outputTokens: 60 })
  })

  void it('fails with MODEL_OUTPUT_INVALID after a second bad answer', async () => {
    const model = await modelWith([{ content: 'It is Germany.' }, { content: '{"country":"DE"}' }])
    await assert.rejects(model.generate({ messages, schema }), {
      code: 'MODEL_OUTPUT_INVALID',
      message:
        "openai-compatible:llama3.1 answered twice with output that does not fit the schema: /: must have required property 'confidence'",
    })
    const [span] = spans.exporter.getFinishedSpans()
    assert.equal(span?.attributes['switchyard.error.code'], 'MODEL_OUTPUT_INVALID')
  })

  void it('turns HTTP 429 into a retryable MODEL_FAILED', async () => {
    const model = await modelWith([{ status: 429, error: 'Rate limit reached' }])
    await assert.rejects(model.generate({ messages }), (error: { code: string; retryable: boolean; message: string }) => {
      assert.equal(error.code, 'MODEL_FAILED')
      assert.equal(error.retryable, true)
      assert.equal(error.message, 'openai-compatible:llama3.1 failed: rate limited (HTTP 429): Rate limit reached')
      return true
    })
    assert.equal(server.requests.length, 1, 'the platform retries runs; the SDK must not retry on its own')
  })

  void it('turns HTTP 400 into a MODEL_FAILED that is not retried', async () => {
    const model = await modelWith([{ status: 400, error: 'bad model' }])
    await assert.rejects(model.generate({ messages }), { code: 'MODEL_FAILED', retryable: false })
  })

  void it('turns a server that never answers into a retryable timeout', async () => {
    const model = await modelWith([{ hang: true }], 200)
    await assert.rejects(model.generate({ messages }), {
      code: 'MODEL_FAILED',
      retryable: true,
      message: 'openai-compatible:llama3.1 did not answer within 200ms',
    })
  })

  void it('turns a server that is not there into a retryable MODEL_FAILED', async () => {
    server = await startChatServer([])
    const { baseURL } = server
    await server.close()
    const model = createModel(`openai-compatible:${baseURL}#llama3.1`, { env: {}, timeoutMs: 5000 })
    await assert.rejects(model.generate({ messages }), (error: { code: string; retryable: boolean; message: string }) => {
      assert.equal(error.code, 'MODEL_FAILED')
      assert.equal(error.retryable, true)
      assert.match(error.message, /^openai-compatible:llama3\.1 failed: unreachable: Cannot connect to API/)
      return true
    })
  })

  void it('stops when the run aborts, with the reason the run gave', async () => {
    const model = await modelWith([{ hang: true }])
    const controller = new AbortController()
    const pending = model.generate({ messages, signal: controller.signal })
    setImmediate(() => controller.abort())
    await assert.rejects(pending, { code: 'CANCELLED' })
  })
})
