import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { createModel, OFFLINE_LABEL } from '../../src/graph/index.js'
import { recordSpans } from './spans.js'

const schema = {
  type: 'object',
  properties: {
    subject: { type: 'string', maxLength: 60 },
    body: { type: 'string' },
    tone: { enum: ['formal', 'casual'] },
    score: { type: 'number', minimum: 0, maximum: 1 },
    country: { type: ['string', 'null'], pattern: '^[A-Z]{2}$' },
    tags: { type: 'array', items: { type: 'string' }, minItems: 1 },
    extras: { type: 'array', items: { type: 'string' } },
  },
  required: ['subject', 'body', 'tone', 'score', 'country', 'tags', 'extras'],
  additionalProperties: false,
} as const

void describe('offline model', () => {
  let spans: ReturnType<typeof recordSpans>
  before(() => (spans = recordSpans()))
  after(() => spans.stop())

  const messages = [
    { role: 'system' as const, content: 'You write short emails.' },
    { role: 'user' as const, content: 'Keep it casual.\nsubject: Faster onboarding at Acme\n<body>\nHi Ada,\n\nA short note.\n</body>' },
  ]

  void it('answers structured requests with a schema-valid object drawn from the messages, labelled offline', async () => {
    const model = createModel('offline')
    const result = await model.generate({ messages, schema })
    assert.deepEqual(result.object, {
      subject: `${OFFLINE_LABEL} Faster onboarding at Acme`,
      body: `${OFFLINE_LABEL} Hi Ada,\n\nA short note.`,
      tone: 'casual',
      score: 0.5,
      country: null,
      tags: [`${OFFLINE_LABEL} tag`],
      extras: [],
    })
    assert.equal(result.offline, true)
    assert.equal(result.model, 'offline')
    assert.equal(result.costUsd, 0)
    assert.ok(result.usage.inputTokens > 0 && result.usage.outputTokens > 0)
  })

  void it('is deterministic: the same input gives the same output', async () => {
    const model = createModel(undefined)
    const a = await model.generate({ messages })
    const b = await model.generate({ messages })
    assert.equal(a.text, b.text)
    assert.ok(a.text.startsWith(OFFLINE_LABEL))
  })

  void it('marks its spans offline, with GenAI attributes', async () => {
    spans.exporter.reset()
    await createModel('offline').generate({ messages, name: 'draft' })
    const [span] = spans.exporter.getFinishedSpans()
    // The GenAI convention's span name, `{operation} {request model}`; the call's own name is an attribute.
    assert.equal(span?.name, 'chat offline')
    assert.equal(span?.attributes['switchyard.model.call'], 'draft')
    assert.equal(span?.attributes['gen_ai.system'], 'offline')
    assert.equal(span?.attributes['gen_ai.request.model'], 'offline')
    assert.equal(span?.attributes['switchyard.model.offline'], true)
    assert.equal(span?.attributes['switchyard.model.cost_usd'], 0)
    assert.equal(typeof span?.attributes['gen_ai.usage.input_tokens'], 'number')
  })

  void it('refuses to start on an aborted signal', async () => {
    const controller = new AbortController()
    controller.abort()
    await assert.rejects(createModel('offline').generate({ messages, signal: controller.signal }), { code: 'CANCELLED' })
  })
})

void describe('model specs', () => {
  void it('rejects an unknown provider with the accepted forms', () => {
    assert.throws(() => createModel('mistral:large'), {
      code: 'MODEL_SPEC_INVALID',
      message:
        "SWITCHYARD_MODEL='mistral:large': unknown provider 'mistral'; expected `offline`, `openai:<model>`, `anthropic:<model>` or `openai-compatible:<baseURL>#<model>`",
    })
  })

  void it('needs a base URL and a model for openai-compatible', () => {
    assert.throws(() => createModel('openai-compatible:llama3'), { code: 'MODEL_SPEC_INVALID' })
    assert.equal(createModel('openai-compatible:http://127.0.0.1:11434/v1#llama3.1').id, 'openai-compatible:llama3.1')
    // Ollama tags carry a colon of their own.
    assert.equal(createModel('openai-compatible:http://127.0.0.1:11434/v1#llama3.1:8b').id, 'openai-compatible:llama3.1:8b')
  })

  void it('loads no provider SDK until the first call', () => {
    const model = createModel('openai:gpt-4o-mini', { env: {} })
    assert.equal(model.id, 'openai:gpt-4o-mini')
    assert.equal(model.offline, false)
  })

  void it('says which key is missing for a hosted provider', async () => {
    await assert.rejects(
      createModel('anthropic:claude-3-5-haiku-latest', { env: {} }).generate({ messages: [{ role: 'user', content: 'hi' }] }),
      {
        code: 'MODEL_FAILED',
        message: "anthropic:claude-3-5-haiku-latest needs ANTHROPIC_API_KEY in the pool's env",
      },
    )
  })

  void it('reads price overrides from SWITCHYARD_PRICES and rejects malformed ones', () => {
    assert.throws(() => createModel('offline', { env: { SWITCHYARD_PRICES: '{"m": 3}' } }), {
      code: 'MODEL_SPEC_INVALID',
      message: `SWITCHYARD_PRICES['m'] must be { "input": <usd per 1M tokens>, "output": <usd per 1M tokens> }`,
    })
  })
})
