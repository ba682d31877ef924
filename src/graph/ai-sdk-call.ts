// Hosted and local models through the Vercel AI SDK (v5). The SDK and the provider
// package load on the first call, so importing switchyard-ai/graph stays cheap.
import { SwitchyardError } from '../control/contract/index.js'
import { aborted, estimateTokens, type ModelProviderCall, type ProviderAnswer } from './model-call.js'
import type { ModelSpec } from './model-spec.js'
import type { GenerateRequest } from './types.js'
import type { LanguageModel } from 'ai'

export interface AiSdkOptions {
  readonly env: Record<string, string | undefined>
  /** Per call, milliseconds; a call that takes longer fails with retryable MODEL_FAILED. */
  readonly timeoutMs: number
}

/** A provider call for openai, anthropic and openai-compatible specs. */
export function aiSdkCall(spec: ModelSpec, options: AiSdkOptions): ModelProviderCall {
  let model: Promise<LanguageModel> | undefined
  return async (request, signal) => {
    model ??= languageModel(spec, options.env)
    const timeout = AbortSignal.timeout(options.timeoutMs)
    const abortSignal = signal ? AbortSignal.any([signal, timeout]) : timeout
    try {
      return await call(await model, request, abortSignal)
    } catch (error) {
      if (signal?.aborted) throw aborted(signal)
      if (timeout.aborted) {
        throw new SwitchyardError('MODEL_FAILED', `${spec.id} did not answer within ${options.timeoutMs}ms`, {
          retryable: true,
          cause: error,
        })
      }
      throw await normalise(spec, error)
    }
  }
}

async function call(model: LanguageModel, request: GenerateRequest, abortSignal: AbortSignal): Promise<ProviderAnswer> {
  const { generateText, generateObject, jsonSchema, NoObjectGeneratedError } = await import('ai')
  const system = request.messages.filter((m) => m.role === 'system').map((m) => m.content)
  const messages = request.messages
    .filter((m) => m.role !== 'system')
    .map((m) => (m.role === 'user' ? { role: 'user' as const, content: m.content } : { role: 'assistant' as const, content: m.content }))
  const prompt = request.messages.map((m) => m.content).join('\n')
  const settings = {
    model,
    messages,
    abortSignal,
    // The platform retries whole runs with backoff; a second layer of retries would hide 429s.
    maxRetries: 0,
    ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
    ...(request.maxTokens === undefined ? {} : { maxOutputTokens: request.maxTokens }),
  }
  if (!request.schema) {
    const result = await generateText({ ...settings, ...(system.length ? { system: system.join('\n\n') } : {}) })
    return { text: result.text, usage: usageOf(result.usage, prompt, result.text), responseModel: result.response.modelId }
  }
  // Providers without native structured output get the schema in the instructions too.
  const instruction = `Answer with only a JSON object that fits this JSON Schema:\n${JSON.stringify(request.schema)}`
  try {
    const result = await generateObject({
      ...settings,
      system: [...system, instruction].join('\n\n'),
      schema: jsonSchema(request.schema as Parameters<typeof jsonSchema>[0]),
      schemaName: request.name ?? 'answer',
    })
    const text = JSON.stringify(result.object)
    return { text, object: result.object, usage: usageOf(result.usage, prompt, text), responseModel: result.response.modelId }
  } catch (error) {
    // Text that is not JSON is an invalid answer (retried once with the reason), not a failure.
    if (NoObjectGeneratedError.isInstance(error) && error.text !== undefined) {
      const text = error.text
      return {
        text,
        object: parseJson(text),
        usage: usageOf(error.usage, prompt, text),
        ...(error.response ? { responseModel: error.response.modelId } : {}),
      }
    }
    throw error
  }
}

function usageOf(usage: { inputTokens?: number | undefined; outputTokens?: number | undefined } | undefined, prompt: string, text: string) {
  return {
    inputTokens: usage?.inputTokens ?? estimateTokens(prompt),
    outputTokens: usage?.outputTokens ?? estimateTokens(text),
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch {
    return undefined
  }
}

async function languageModel(spec: ModelSpec, env: Record<string, string | undefined>): Promise<LanguageModel> {
  switch (spec.provider) {
    case 'openai': {
      const { createOpenAI } = await import('@ai-sdk/openai')
      // Chat completions rather than the Responses API: what OPENAI_BASE_URL proxies (Azure, LiteLLM) speak.
      return createOpenAI({
        apiKey: required(env, 'OPENAI_API_KEY', spec),
        ...(env.OPENAI_BASE_URL ? { baseURL: env.OPENAI_BASE_URL } : {}),
      }).chat(spec.model)
    }
    case 'anthropic': {
      const { createAnthropic } = await import('@ai-sdk/anthropic')
      return createAnthropic({
        apiKey: required(env, 'ANTHROPIC_API_KEY', spec),
        ...(env.ANTHROPIC_BASE_URL ? { baseURL: env.ANTHROPIC_BASE_URL } : {}),
      })(spec.model)
    }
    case 'openai-compatible': {
      const { createOpenAICompatible } = await import('@ai-sdk/openai-compatible')
      const apiKey = env.SWITCHYARD_MODEL_API_KEY
      // Ollama, vLLM, LM Studio and llama.cpp server all accept response_format json_schema.
      const provider = createOpenAICompatible({
        name: 'openai-compatible',
        baseURL: spec.baseURL ?? '',
        supportsStructuredOutputs: true,
        ...(apiKey ? { apiKey } : {}),
      })
      return provider.chatModel(spec.model)
    }
    default:
      throw new SwitchyardError('MODEL_SPEC_INVALID', `${spec.id} is not served by the AI SDK`)
  }
}

function required(env: Record<string, string | undefined>, name: string, spec: ModelSpec): string {
  const value = env[name]
  if (!value) throw new SwitchyardError('MODEL_FAILED', `${spec.id} needs ${name} in the pool's env`)
  return value
}

// 429, 408, 5xx and network failures may pass on a later attempt; other 4xx will not.
async function normalise(spec: ModelSpec, error: unknown): Promise<SwitchyardError> {
  if (error instanceof SwitchyardError) return error
  const { APICallError, RetryError } = await import('ai')
  const cause = RetryError.isInstance(error) ? error.lastError : error
  if (APICallError.isInstance(cause)) {
    const status = cause.statusCode
    const retryable = status === undefined || status === 408 || status === 409 || status === 429 || status >= 500
    const what = status === 429 ? 'rate limited (HTTP 429)' : status ? `HTTP ${status}` : 'unreachable'
    return new SwitchyardError('MODEL_FAILED', `${spec.id} failed: ${what}: ${cause.message}`, { retryable, cause })
  }
  const message = cause instanceof Error ? cause.message : String(cause)
  const network = /fetch failed|ECONNREFUSED|ECONNRESET|ETIMEDOUT|socket/i.test(
    `${message} ${String((cause as { cause?: unknown })?.cause)}`,
  )
  return new SwitchyardError('MODEL_FAILED', `${spec.id} failed: ${message}`, { retryable: network, cause })
}
