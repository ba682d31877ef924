// A model call's `chat` span carries what the model was sent and what it answered, in the
// OpenTelemetry GenAI conventions' shape (gen_ai.input.messages / gen_ai.output.messages,
// JSON strings of role + parts, the output with a finish_reason), bounded in size with
// the JSON kept whole; a pool whose capture is `none` exports none of it.
import assert from 'node:assert/strict'
import { after, before, beforeEach, describe, it } from 'node:test'
import { context, trace } from '@opentelemetry/api'
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base'
import { MESSAGES_LIMIT, MESSAGE_CONTENT_LIMIT, createModel } from '../../src/graph/index.js'
import { initTracing, type Tracing } from '../../src/observe/index.js'

interface Message {
  readonly role: string
  readonly parts: ReadonlyArray<{ readonly type: string; readonly content: string }>
  readonly finish_reason?: string
}

void describe('chat spans: messages and completion (GenAI conventions)', () => {
  const exporter = new InMemorySpanExporter()
  let tracing: Tracing
  before(() => {
    tracing = initTracing({ service: 'switchyard-pool-p', env: {}, exporter })
  })
  after(() => tracing.shutdown())
  beforeEach(async () => {
    await tracing.forceFlush()
    exporter.reset()
  })

  async function chat(messages: Parameters<ReturnType<typeof createModel>['generate']>[0]['messages']) {
    await createModel('offline').generate({ messages })
    await tracing.forceFlush()
    const span = exporter.getFinishedSpans().find((s) => s.name === 'chat offline')
    assert.ok(span)
    const read = (key: string) => JSON.parse(String(span.attributes[key])) as Message[]
    return { input: read('gen_ai.input.messages'), output: read('gen_ai.output.messages') }
  }

  void it('records the conversation in order, system messages included, and the answer as one assistant choice', async () => {
    const { input, output } = await chat([
      { role: 'system', content: 'You write short emails.' },
      { role: 'user', content: 'Write to Ada about the warehouse.' },
    ])
    assert.deepEqual(input, [
      { role: 'system', parts: [{ type: 'text', content: 'You write short emails.' }] },
      { role: 'user', parts: [{ type: 'text', content: 'Write to Ada about the warehouse.' }] },
    ])
    assert.equal(output.length, 1)
    assert.equal(output[0]?.role, 'assistant')
    assert.equal(output[0]?.finish_reason, 'stop')
    assert.equal(output[0]?.parts[0]?.type, 'text')
    assert.ok((output[0]?.parts[0]?.content ?? '').length > 0)
  })

  void it('cuts long content, says how much it left out, and keeps the JSON whole', async () => {
    const long = 'x'.repeat(MESSAGE_CONTENT_LIMIT + 5000)
    const { input } = await chat(Array.from({ length: 6 }, () => ({ role: 'user' as const, content: long })))
    assert.equal(input.length, 6, 'every message is still there')
    const contents = input.map((m) => m.parts[0]?.content ?? '')
    assert.ok(contents[0]?.endsWith('…[5000 more characters]'), contents[0]?.slice(-40))
    const kept = contents.reduce((sum, c) => sum + c.replace(/…\[\d+ more characters\]$/, '').length, 0)
    assert.equal(kept, MESSAGES_LIMIT, 'the whole list keeps at most MESSAGES_LIMIT characters of content')
    assert.match(contents[5] ?? '', /^…\[\d+ more characters\]$/)
  })

  void it('an unsampled run records no content', async () => {
    const unsampled = trace.wrapSpanContext({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 0 })
    await context.with(trace.setSpan(context.active(), unsampled), () =>
      createModel('offline').generate({ messages: [{ role: 'user', content: 'hi' }] }),
    )
    await tracing.forceFlush()
    assert.deepEqual(exporter.getFinishedSpans(), [])
  })
})

void describe('capture: none', () => {
  void it('exports the chat span without its messages', async () => {
    const exporter = new InMemorySpanExporter()
    const tracing = initTracing({
      service: 'switchyard-pool-p',
      env: {},
      exporter,
      tracing: { project: 'p', sampleRate: 1, capture: 'none', redact: [] },
    })
    try {
      await createModel('offline').generate({ messages: [{ role: 'user', content: 'Write to ada@example.com' }] })
      await tracing.forceFlush()
      const [span] = exporter.getFinishedSpans()
      assert.equal(span?.name, 'chat offline')
      assert.equal(span?.attributes['gen_ai.input.messages'], undefined)
      assert.equal(span?.attributes['gen_ai.output.messages'], undefined)
      assert.equal(typeof span?.attributes['gen_ai.usage.input_tokens'], 'number', 'the numbers stay')
    } finally {
      await tracing.shutdown()
    }
  })

  void it('capture: redacted masks the addresses inside the messages', async () => {
    const exporter = new InMemorySpanExporter()
    const tracing = initTracing({
      service: 'switchyard-pool-p',
      env: {},
      exporter,
      tracing: { project: 'p', sampleRate: 1, capture: 'redacted', redact: [] },
    })
    try {
      await createModel('offline').generate({ messages: [{ role: 'user', content: 'Write to ada@example.com' }] })
      await tracing.forceFlush()
      const sent = String(exporter.getFinishedSpans()[0]?.attributes['gen_ai.input.messages'])
      assert.equal(sent.includes('ada@example.com'), false)
      assert.deepEqual(JSON.parse(sent), [{ role: 'user', parts: [{ type: 'text', content: 'Write to [email]' }] }])
    } finally {
      await tracing.shutdown()
    }
  })
})
