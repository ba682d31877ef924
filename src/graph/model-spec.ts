// SWITCHYARD_MODEL, parsed once: `offline` | `openai:<model>` | `anthropic:<model>`
// | `openai-compatible:<baseURL>#<model>`.
import { SwitchyardError } from '../control/contract/index.js'

export type ModelProvider = 'offline' | 'openai' | 'anthropic' | 'openai-compatible'

export interface ModelSpec {
  readonly provider: ModelProvider
  /** Model name as the provider knows it (`offline` for the offline model). */
  readonly model: string
  /** Only for openai-compatible. */
  readonly baseURL: string | null
  /** Canonical id, e.g. `openai:gpt-4o-mini`; what spans and results name. */
  readonly id: string
}

const FORMS = '`offline`, `openai:<model>`, `anthropic:<model>` or `openai-compatible:<baseURL>#<model>`'

/**
 * Parse a model spec; an empty or missing spec is the offline model.
 *
 * @example parseModelSpec('openai-compatible:http://127.0.0.1:11434/v1#llama3.1')
 * @default 'offline'
 */
export function parseModelSpec(spec: string | undefined): ModelSpec {
  const text = (spec ?? '').trim()
  if (text === '' || text === 'offline') return { provider: 'offline', model: 'offline', baseURL: null, id: 'offline' }
  const colon = text.indexOf(':')
  const provider = colon > 0 ? text.slice(0, colon) : text
  const rest = colon > 0 ? text.slice(colon + 1).trim() : ''
  if (provider === 'openai' || provider === 'anthropic') {
    if (rest === '')
      throw invalid(
        text,
        `'${provider}:' needs a model name, e.g. ${provider}:${provider === 'openai' ? 'gpt-4o-mini' : 'claude-3-5-haiku-latest'}`,
      )
    return { provider, model: rest, baseURL: null, id: `${provider}:${rest}` }
  }
  if (provider === 'openai-compatible') {
    const hash = rest.lastIndexOf('#')
    const baseURL = hash > 0 ? rest.slice(0, hash) : ''
    const model = hash > 0 ? rest.slice(hash + 1).trim() : ''
    if (!/^https?:\/\/\S+$/.test(baseURL) || model === '') {
      throw invalid(text, "'openai-compatible:' needs <baseURL>#<model>, e.g. openai-compatible:http://127.0.0.1:11434/v1#llama3.1")
    }
    return { provider, model, baseURL: baseURL.replace(/\/+$/, ''), id: `openai-compatible:${model}` }
  }
  throw invalid(text, `unknown provider '${provider}'`)
}

function invalid(spec: string, why: string): SwitchyardError {
  return new SwitchyardError('MODEL_SPEC_INVALID', `SWITCHYARD_MODEL='${spec}': ${why}; expected ${FORMS}`)
}
