// What every ModelClient shares, whatever the provider: one span per generate()
// (`chat <model>` as the GenAI convention names it, `{operation} {request model}`;
// the call's own name is an attribute), GenAI attributes, cost, structured output validated against the
// request's JSON Schema with one corrective retry, errors normalised to SwitchyardError.
import { SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api'
import { ATTR, GENAI, SwitchyardError } from '../control/contract/index.js'
import { inputMessages, outputMessages } from './gen-ai-messages.js'
import type { ModelSpec } from './model-spec.js'
import { costOf, type PriceTable } from './prices.js'
import { describeIssues, schemaCheckFor } from './schema-validator.js'
import type { ChatMessage, GenerateRequest, GenerateResult, ModelClient, Usage } from './types.js'

/** One raw answer from a provider, before validation. */
export interface ProviderAnswer {
  readonly text: string
  /** The parsed JSON when a schema was requested (undefined when it did not parse). */
  readonly object?: unknown
  readonly usage: Usage
  readonly responseModel?: string
}

/** A provider strategy: one call to one model, no retries, no spans. */
export interface ModelProviderCall {
  (request: GenerateRequest, signal: AbortSignal | undefined): Promise<ProviderAnswer>
}

export interface ModelCallOptions {
  readonly spec: ModelSpec
  /** `gen_ai.system`: openai, anthropic, openai_compatible, offline. */
  readonly system: string
  readonly prices: PriceTable
  readonly call: ModelProviderCall
}

/** Wrap a provider call into a ModelClient (spans, cost, validation, one corrective retry). */
export function modelClient(options: ModelCallOptions): ModelClient {
  const { spec } = options
  const offline = spec.provider === 'offline'
  return {
    id: spec.id,
    offline,
    // The tracer is looked up per call (cheap): a module-level one would stay bound to
    // whichever provider was global first, and tests install several in one process.
    generate: (request) =>
      trace
        .getTracer('switchyard.graph')
        .startActiveSpan(`chat ${spec.model}`, { kind: SpanKind.CLIENT, attributes: startAttributes(options, request) }, (span) =>
          generate(options, request, span).then(
            (result) => {
              span.end()
              return result
            },
            (error: unknown) => {
              const failure = SwitchyardError.from(error, 'MODEL_FAILED')
              span.recordException(failure)
              span.setStatus({ code: SpanStatusCode.ERROR, message: failure.message })
              span.setAttribute(ATTR.errorCode, failure.code)
              span.end()
              throw failure
            },
          ),
        ),
  }
}

async function generate(options: ModelCallOptions, request: GenerateRequest, span: Span): Promise<GenerateResult> {
  const { spec } = options
  if (request.signal?.aborted) throw aborted(request.signal)
  // Content is recorded only on a span that is kept: an unsampled run pays nothing for it.
  const recording = span.isRecording()
  if (recording) span.setAttribute(GENAI.inputMessages, inputMessages(request.messages))
  let answer = await options.call(request, request.signal)
  let usage = answer.usage
  let object: unknown
  if (request.schema) {
    const validate = await schemaCheckFor(request.schema)
    let problem = problemOf(answer, validate)
    if (problem !== null) {
      // One corrective retry: show the model its answer and exactly what was wrong with it.
      span.addEvent('gen_ai.output.invalid', { [ATTR.validation]: problem })
      const retry: GenerateRequest = { ...request, messages: [...request.messages, ...correction(answer.text, problem)] }
      // The span records the conversation as it was sent last: with the correction.
      if (recording) span.setAttribute(GENAI.inputMessages, inputMessages(retry.messages))
      answer = await options.call(retry, request.signal)
      usage = { inputTokens: usage.inputTokens + answer.usage.inputTokens, outputTokens: usage.outputTokens + answer.usage.outputTokens }
      problem = problemOf(answer, validate)
      if (recording) span.setAttribute(GENAI.outputMessages, outputMessages(answer.text))
      if (problem !== null) {
        record(span, options, usage, answer.responseModel)
        throw new SwitchyardError('MODEL_OUTPUT_INVALID', `${spec.id} answered twice with output that does not fit the schema: ${problem}`)
      }
    }
    object = answer.object
  }
  if (recording) span.setAttribute(GENAI.outputMessages, outputMessages(answer.text))
  const costUsd = record(span, options, usage, answer.responseModel)
  return { text: answer.text, ...(request.schema ? { object } : {}), usage, costUsd, model: spec.id, offline: spec.provider === 'offline' }
}

function problemOf(answer: ProviderAnswer, validate: (value: unknown) => readonly { path: string; message: string }[]): string | null {
  if (answer.object === undefined) return 'the answer is not a JSON object'
  const issues = validate(answer.object)
  return issues.length === 0 ? null : describeIssues(issues)
}

function correction(text: string, problem: string): ChatMessage[] {
  return [
    { role: 'assistant', content: text },
    {
      role: 'user',
      content: `That answer does not fit the required JSON Schema (${problem}). Answer again with only a JSON object that fits it.`,
    },
  ]
}

function startAttributes(options: ModelCallOptions, request: GenerateRequest) {
  return {
    [GENAI.system]: options.system,
    [GENAI.operation]: 'chat',
    [GENAI.requestModel]: options.spec.model,
    ...(request.name === undefined ? {} : { [ATTR.modelCall]: request.name }),
    [ATTR.offline]: options.spec.provider === 'offline',
    ...(request.temperature === undefined ? {} : { [GENAI.temperature]: request.temperature }),
    ...(request.maxTokens === undefined ? {} : { [GENAI.maxTokens]: request.maxTokens }),
  }
}

function record(span: Span, options: ModelCallOptions, usage: Usage, responseModel: string | undefined): number {
  const costUsd = costOf(options.prices, options.spec.id, options.spec.model, usage)
  span.setAttributes({
    [GENAI.responseModel]: responseModel ?? options.spec.model,
    [GENAI.inputTokens]: usage.inputTokens,
    [GENAI.outputTokens]: usage.outputTokens,
    [ATTR.costUsd]: costUsd,
  })
  return costUsd
}

/** The error a model call throws when its run's signal aborts (the signal's own reason when it is one of ours). */
export function aborted(signal: AbortSignal): SwitchyardError {
  const reason: unknown = signal.reason
  if (reason instanceof SwitchyardError) return reason
  return new SwitchyardError('CANCELLED', 'model call aborted: the run was cancelled or passed its deadline', { cause: reason })
}

/** Rough token estimate (characters / 4), for the offline model and providers that report none. */
export function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4))
}
