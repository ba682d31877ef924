// Cost estimates: USD per million tokens, per model, from spec/prices.json (shared with
// the Python helpers). The table is a default; a pool overrides it with
// SWITCHYARD_PRICES (JSON) or createModel's `prices`.
import { readFileSync } from 'node:fs'
import { SwitchyardError } from '../control/contract/index.js'
import type { Usage } from './types.js'

export interface Price {
  /** USD per million input tokens. */
  readonly input: number
  /** USD per million output tokens. */
  readonly output: number
}

export type PriceTable = Readonly<Record<string, Price>>

/**
 * List prices, keys being model names without the provider: spec/prices.json, the one
 * table the TypeScript and the Python model clients both read.
 */
export const DEFAULT_PRICES: PriceTable = loadPriceTable()

function loadPriceTable(): PriceTable {
  // src/graph/ and dist/graph/ are both two levels below the package root, where spec/ lives.
  const file = new URL('../../spec/prices.json', import.meta.url)
  const { prices } = JSON.parse(readFileSync(file, 'utf8')) as { prices: Record<string, Price> }
  return Object.freeze(prices)
}

/** Merge the default table, SWITCHYARD_PRICES and explicit prices (later wins). */
export function resolvePrices(env: Record<string, string | undefined>, prices?: PriceTable): PriceTable {
  const fromEnv = env.SWITCHYARD_PRICES ? parsePriceEnv(env.SWITCHYARD_PRICES) : {}
  return { ...DEFAULT_PRICES, ...fromEnv, ...prices }
}

/**
 * Look a model up by its full id (`openai:gpt-4o`), then its bare name, then the longest
 * key its name starts with (`gpt-4o-mini-2024-07-18` → `gpt-4o-mini`). Unknown: 0, not a guess.
 */
export function costOf(table: PriceTable, id: string, model: string, usage: Usage): number {
  const prefix = Object.keys(table)
    .filter((key) => model.startsWith(key))
    .sort((a, b) => b.length - a.length)[0]
  const price = table[id] ?? table[model] ?? (prefix === undefined ? undefined : table[prefix])
  if (!price) return 0
  return (usage.inputTokens * price.input + usage.outputTokens * price.output) / 1_000_000
}

function parsePriceEnv(text: string): PriceTable {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error) {
    throw new SwitchyardError('MODEL_SPEC_INVALID', `SWITCHYARD_PRICES is not JSON: ${(error as Error).message}`)
  }
  const table: Record<string, Price> = {}
  for (const [model, price] of Object.entries(isRecord(parsed) ? parsed : fail())) {
    if (!isRecord(price) || typeof price.input !== 'number' || typeof price.output !== 'number') {
      throw new SwitchyardError(
        'MODEL_SPEC_INVALID',
        `SWITCHYARD_PRICES['${model}'] must be { "input": <usd per 1M tokens>, "output": <usd per 1M tokens> }`,
      )
    }
    table[model] = { input: price.input, output: price.output }
  }
  return table
}

function fail(): never {
  throw new SwitchyardError('MODEL_SPEC_INVALID', 'SWITCHYARD_PRICES must be a JSON object of { model: { input, output } }')
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
