// createModel: SWITCHYARD_MODEL (from the pool's env) → a ModelClient.
import { SwitchyardError } from '../control/contract/index.js'
import { aiSdkCall } from './ai-sdk-call.js'
import { modelClient } from './model-call.js'
import { parseModelSpec } from './model-spec.js'
import { offlineAnswer } from './offline-model.js'
import { resolvePrices, type PriceTable } from './prices.js'
import type { ModelClient } from './types.js'

export interface CreateModelOptions {
  /** Where API keys, SWITCHYARD_PRICES and SWITCHYARD_MODEL_TIMEOUT come from. @default process.env */
  readonly env?: Record<string, string | undefined>
  /** Prices (USD per million tokens) that override the table and SWITCHYARD_PRICES. */
  readonly prices?: PriceTable
  /** Per-call timeout in milliseconds. @default SWITCHYARD_MODEL_TIMEOUT or 60000 */
  readonly timeoutMs?: number
}

const SYSTEMS = { offline: 'offline', openai: 'openai', anthropic: 'anthropic', 'openai-compatible': 'openai_compatible' } as const

/**
 * The pool's model client. Cheap: provider SDKs load on the first generate().
 *
 * @example
 * const model = createModel(process.env.SWITCHYARD_MODEL)          // offline by default
 * const { object } = await model.generate({ messages, schema })
 */
export function createModel(spec: string | undefined, options: CreateModelOptions = {}): ModelClient {
  const env = options.env ?? process.env
  const parsed = parseModelSpec(spec)
  const prices = resolvePrices(env, options.prices)
  if (parsed.provider === 'offline') {
    return modelClient({ spec: parsed, system: SYSTEMS.offline, prices, call: async (request) => offlineAnswer(request) })
  }
  const timeoutMs = options.timeoutMs ?? timeoutFromEnv(env.SWITCHYARD_MODEL_TIMEOUT)
  return modelClient({ spec: parsed, system: SYSTEMS[parsed.provider], prices, call: aiSdkCall(parsed, { env, timeoutMs }) })
}

function timeoutFromEnv(text: string | undefined): number {
  if (text === undefined || text === '') return 60_000
  const match = /^(\d+)(ms|s|m)?$/.exec(text.trim())
  if (!match) throw new SwitchyardError('MODEL_SPEC_INVALID', `SWITCHYARD_MODEL_TIMEOUT='${text}': expected e.g. 30s, 2m or 45000ms`)
  const n = Number(match[1])
  return match[2] === 'm' ? n * 60_000 : match[2] === 's' ? n * 1000 : n
}
