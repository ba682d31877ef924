import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import {
  InvalidInputError,
  loadRegistry,
  parseDuration,
  parseSize,
  queueName,
  route,
  UnknownWorkflowError,
  type Registry,
} from '../../../src/control/index.js'
import { folder, POOLS_YAML, type Folder } from '../fixture.js'

const SCHEMA = {
  type: 'object',
  properties: {
    lead: {
      type: 'object',
      properties: { email: { type: 'string', format: 'email' }, name: { type: 'string', minLength: 1 } },
      required: ['email'],
    },
    tone: { enum: ['warm', 'formal'], default: 'warm' },
    options: { type: 'object', properties: { length: { type: 'integer', default: 120 } }, default: {} },
  },
  required: ['lead'],
  additionalProperties: false,
}

let f: Folder
let registry: Registry

before(() => {
  f = folder({
    'wf/input.schema.json': JSON.stringify(SCHEMA, null, 2),
    'wf/prompt.md': 'Hello {{lead.name}}\n',
    'switchyard.yaml': `version: 1
${POOLS_YAML}workflows:
  email.compose:
    pool: email
    graph: wf/graph.ts#graph
    prompt: wf/prompt.md
    input: wf/input.schema.json
    description: Personalised first-touch email for one lead.
  email.followup:
    pool: email
    graph: wf/graph.ts#followup
    input: { type: object }
    description: A follow-up.
    timeout: 5s
    retries: 0
  lead.classify:
    pool: classify
    graph: wf/graph.ts
    input: { type: object, properties: { country: { type: string } } }
    description: Country of a lead.
  text.short:
    pool: classify
    graph: wf/graph.ts
    input: { type: object, properties: { text: { type: string, minLength: 2, maxLength: 3 } } }
    description: Two or three characters.
`,
  })
  registry = loadRegistry(f.path('switchyard.yaml'))
})
after(() => f.remove())

void describe('route()', () => {
  void it('plans a run: pool, queue, graph, prompt, deadline, retry, tracing, digest', () => {
    const now = Date.parse('2026-01-01T00:00:00.000Z')
    const plan = route(registry, { workflow: 'email.compose', input: { lead: { email: 'ada@example.com' } }, now })
    assert.deepEqual(plan, {
      workflow: 'email.compose',
      pool: 'email',
      queue: 'switchyard.email',
      runtime: 'node',
      graph: 'wf/graph.ts#graph',
      prompt: 'wf/prompt.md',
      input: { lead: { email: 'ada@example.com' }, tone: 'warm', options: { length: 120 } },
      timeoutMs: 120_000,
      deadline: '2026-01-01T00:02:00.000Z',
      retry: { maxAttempts: 3, backoff: { type: 'exponential', delayMs: 500 } },
      tracing: { project: 'sales-email', sampleRate: 1, capture: 'full', redact: [] },
      registry: registry.digest,
    })
    assert.match(plan.registry, /^sha256:[0-9a-f]{64}$/)
  })

  void it('applies workflow overrides and pool defaults', () => {
    const followup = route(registry, { workflow: 'email.followup', input: {}, now: 0 })
    assert.equal(followup.timeoutMs, 5000)
    assert.deepEqual(followup.retry.maxAttempts, 1)
    const classify = route(registry, { workflow: 'lead.classify', input: {}, now: 0 })
    assert.equal(classify.timeoutMs, 20_000)
    assert.equal(classify.prompt, null)
    assert.equal(classify.graph, 'wf/graph.ts')
    assert.deepEqual(classify.tracing, { project: 'classify', sampleRate: 1, capture: 'full', redact: [] })
    const pool = registry.pools.get('classify')
    assert.deepEqual(
      { ...pool },
      {
        name: 'classify',
        runtime: 'node',
        concurrency: 4,
        processes: 1,
        timeoutMs: 20_000,
        retries: 2,
        maxQueued: 1000,
        memoryBytes: null,
        cpuCores: null,
        maxOutputBytes: 1024 ** 2,
        env: null,
        secrets: [],
        redis: null,
        user: null,
        tracing: { project: 'classify', sampleRate: 1, capture: 'full', redact: [] },
      },
    )
    assert.deepEqual(registry.workflows.get('email.followup')?.graph, {
      ref: 'wf/graph.ts#followup',
      module: f.path('wf/graph.ts'),
      export: 'followup',
    })
  })

  void it("never touches the caller's input", () => {
    const input = { lead: { email: 'ada@example.com' } }
    const frozen = structuredClone(input)
    const plan = route(registry, { workflow: 'email.compose', input })
    assert.deepEqual(input, frozen)
    assert.notEqual(plan.input, input)
  })

  void it('rejects an unknown workflow with did-you-mean', () => {
    assert.throws(
      () => route(registry, { workflow: 'email.compse', input: {} }),
      (error: unknown) =>
        error instanceof UnknownWorkflowError &&
        error.code === 'UNKNOWN_WORKFLOW' &&
        error.message === "unknown workflow 'email.compse'. Did you mean 'email.compose'?" &&
        error.suggestions.join() === 'email.compose',
    )
    assert.throws(() => route(registry, { workflow: 'email', input: {} }), {
      message: "unknown workflow 'email'. Did you mean 'email.compose' or 'email.followup'?",
    })
    assert.throws(() => route(registry, { workflow: 'zzz', input: {} }), { message: "unknown workflow 'zzz'." })
  })

  void it('rejects invalid input listing every violation as a JSON pointer', () => {
    const input = { lead: { email: 'not-an-email', name: '' }, tone: 'rude', extra: 1 }
    assert.throws(
      () => route(registry, { workflow: 'email.compose', input }),
      (error: unknown) => {
        assert.ok(error instanceof InvalidInputError)
        assert.equal(error.code, 'INVALID_INPUT')
        assert.deepEqual(error.issues, [
          { path: '/extra', message: 'is not allowed' },
          { path: '/lead/email', message: 'must match format "email"' },
          { path: '/lead/name', message: 'must NOT have fewer than 1 characters' },
          { path: '/tone', message: 'must be one of "warm", "formal"' },
        ])
        assert.equal(
          error.message,
          `invalid input for 'email.compose': /extra: is not allowed; /lead/email: must match format "email"; /lead/name: must NOT have fewer than 1 characters; /tone: must be one of "warm", "formal"`,
        )
        return true
      },
    )
    assert.throws(() => route(registry, { workflow: 'email.compose', input: {} }), {
      message: "invalid input for 'email.compose': /lead: is required",
    })
    assert.throws(() => route(registry, { workflow: 'email.compose', input: 'text' }), {
      message: "invalid input for 'email.compose': /: must be object",
    })
  })

  void it('counts a string in code points for minLength and maxLength: a surrogate pair is one', () => {
    const fits = (text: string) => {
      try {
        route(registry, { workflow: 'text.short', input: { text } })
        return true
      } catch (error) {
        assert.ok(error instanceof InvalidInputError)
        return false
      }
    }
    assert.equal(fits('ab'), true)
    assert.equal(fits('a'), false)
    assert.equal(fits('abcd'), false)
    // Two emoji, four UTF-16 units; three with a letter; an astral letter and a CJK one.
    assert.equal(fits('😀😀'), true)
    assert.equal(fits('😀😀a'), true)
    assert.equal(fits('😀😀😀😀'), false)
    assert.equal(fits('😀'), false)
    assert.equal(fits('𝒜字'), true)
    // Lone surrogates count one each; a low one before a high one pairs nothing.
    assert.equal(fits('\ud800'), false)
    assert.equal(fits('\ud800\ud800'), true)
    assert.equal(fits('\udc00\udc00\ud800\ud800'), false)
    assert.equal(fits('\udc00\ud800\udc00'), true)
  })

  void it('refuses input nested deeper than 64 levels as INVALID_INPUT, never a stack overflow', () => {
    const nest = (levels: number): unknown => {
      let value: unknown = 'x'
      for (let i = 0; i < levels; i++) value = (levels - i) % 2 ? { a: value } : [value]
      return value
    }
    // 64 levels (the top-level object included) are copied and validated as usual.
    assert.equal(route(registry, { workflow: 'email.followup', input: nest(64) }).workflow, 'email.followup')
    for (const levels of [65, 3_000, 100_000]) {
      assert.throws(
        () => route(registry, { workflow: 'email.followup', input: nest(levels) }),
        (error: unknown) => {
          assert.ok(error instanceof InvalidInputError)
          assert.equal(error.message, "invalid input for 'email.followup': /: nests arrays and objects more than 64 levels deep")
          assert.deepEqual(error.issues, [{ path: '', message: 'nests arrays and objects more than 64 levels deep' }])
          return true
        },
      )
    }
  })

  void it('exposes schemas on the workflow, and the whole workflow as JSON', () => {
    const workflow = registry.workflows.get('email.compose')
    assert.deepEqual(workflow?.input, SCHEMA)
    assert.equal(workflow?.output, null)
    const json = JSON.parse(JSON.stringify(workflow)) as Record<string, unknown>
    assert.deepEqual(json.input, SCHEMA)
    assert.equal(json.description, 'Personalised first-touch email for one lead.')
  })

  void it('gives the same plan from a cached load as from a fresh one', () => {
    const again = loadRegistry(f.path('switchyard.yaml'))
    assert.notEqual(again, registry)
    const input = { lead: { email: 'ada@example.com' } }
    assert.deepEqual(
      route(again, { workflow: 'email.compose', input, now: 0 }),
      route(registry, { workflow: 'email.compose', input, now: 0 }),
    )
  })
})

void describe('units and names', () => {
  void it('parses durations and sizes', () => {
    assert.deepEqual(['250ms', '30s', '2m', '1h', '1.5s'].map(parseDuration), [250, 30_000, 120_000, 3_600_000, 1500])
    assert.deepEqual(['2 minutes', '10', '', '0s', '-1s'].map(parseDuration), [null, null, null, null, null])
    assert.deepEqual(['256mb', '1gb', '1.5GB', '512kb'].map(parseSize), [256 * 2 ** 20, 2 ** 30, 1.5 * 2 ** 30, 512 * 1024])
    assert.deepEqual(['512', 'lots', '0mb', '1048576b'].map(parseSize), [null, null, null, null])
  })

  void it('names one queue per pool', () => {
    assert.equal(queueName('email'), 'switchyard.email')
  })
})
