// One contract for every model provider that can run here: each one against a local
// server speaking its own wire format (no network). Same cases, same expectations.
import assert from 'node:assert/strict'
import { after, afterEach, before, describe, it } from 'node:test'
import { createModel } from '../../src/graph/index.js'
import { startChatServer, type ChatServer, type Reply, type WireFormat } from './chat-server.js'
import { recordSpans } from './spans.js'

interface Provider {
  readonly name: string
  readonly format: WireFormat
  readonly path: string
  readonly system: string
  readonly spec: (baseURL: string) => string
  readonly env: (baseURL: string) => Record<string, string>
}

const PROVIDERS: Provider[] = [
  {
    name: 'openai-compatible',
    format: 'openai',
    path: '/v1/chat/completions',
    system: 'openai_compatible',
    spec: (url) => `openai-compatible:${url}#m1`,
    env: () => ({}),
  },
  {
    name: 'openai',
    format: 'openai',
    path: '/v1/chat/completions',
    system: 'openai',
    spec: () => 'openai:m1',
    env: (url) => ({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: url }),
  },
  {
    name: 'anthropic',
    format: 'anthropic',
    path: '/v1/messages',
    system: 'anthropic',
    spec: () => 'anthropic:m1',
    env: (url) => ({ ANTHROPIC_API_KEY: 'sk-ant-test', ANTHROPIC_BASE_URL: url }),
  },
]
const schema = {
  type: 'object',
  properties: { country: { type: ['string', 'null'], pattern: '^[A-Z]{2}$' }, confidence: { type: 'number' } },
  required: ['country', 'confidence'],
  additionalProperties: false,
} as const
const messages = [
  { role: 'system' as const, content: 'Classify leads.' },
  { role: 'user' as const, content: 'Acme GmbH, Berlin' },
]

for (const provider of PROVIDERS) {
  void describe(`model provider contract: ${provider.name}`, () => {
    let server: ChatServer
    let spans: ReturnType<typeof recordSpans>
    before(() => (spans = recordSpans()))
    after(() => spans.stop())
    afterEach(() => server.close())

    async function modelWith(replies: Reply[]) {
      server = await startChatServer(replies, provider.format)
      spans.exporter.reset()
      return createModel(provider.spec(server.baseURL), {
        env: provider.env(server.baseURL),
        prices: { m1: { input: 2, output: 4 } },
        timeoutMs: 5000,
      })
    }

    void it('answers text, with usage and cost on its span', async () => {
      const model = await modelWith([{ content: 'Germany.', usage: { prompt_tokens: 500, completion_tokens: 250 } }])
      const result = await model.generate({ messages, maxTokens: 64 })
      assert.deepEqual(
        [result.text, result.usage, result.costUsd, result.offline],
        ['Germany.', { inputTokens: 500, outputTokens: 250 }, 0.002, false],
      )
      assert.equal(server.paths[0], provider.path)
      const [span] = spans.exporter.getFinishedSpans()
      assert.equal(span?.name, 'chat m1')
      assert.equal(span?.attributes['gen_ai.system'], provider.system)
      assert.equal(span?.attributes['gen_ai.usage.output_tokens'], 250)
      assert.equal(span?.attributes['switchyard.model.cost_usd'], 0.002)
    })

    void it('answers a schema-valid object, and retries once when the first does not fit', async () => {
      const model = await modelWith([
        { content: '{"country":"Germany","confidence":0.9}' },
        { content: '{"country":"DE","confidence":0.9}' },
      ])
      const result = await model.generate({ messages, schema })
      assert.deepEqual(result.object, { country: 'DE', confidence: 0.9 })
      assert.equal(server.requests.length, 2)
    })

    void it('fails MODEL_OUTPUT_INVALID after two answers that do not fit', async () => {
      const model = await modelWith([
        { content: '{"country":"Germany","confidence":0.9}' },
        { content: '{"country":"Germany","confidence":0.9}' },
      ])
      await assert.rejects(model.generate({ messages, schema }), {
        code: 'MODEL_OUTPUT_INVALID',
        message: `${model.id} answered twice with output that does not fit the schema: /country: must match pattern "^[A-Z]{2}$"`,
      })
    })

    void it('turns 429 into a retryable MODEL_FAILED, without retrying by itself', async () => {
      const model = await modelWith([{ status: 429, error: 'slow down' }])
      await assert.rejects(model.generate({ messages }), {
        code: 'MODEL_FAILED',
        retryable: true,
        message: `${model.id} failed: rate limited (HTTP 429): slow down`,
      })
      assert.equal(server.requests.length, 1)
    })
  })
}
