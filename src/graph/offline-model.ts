// The offline model: deterministic (same messages → same answer), no network,
// labelled "[offline]" in what it writes and `switchyard.model.offline` on its spans.
import { createHash } from 'node:crypto'
import { estimateTokens, type ProviderAnswer } from './model-call.js'
import { OFFLINE_LABEL, offlineObject } from './offline-object.js'
import type { GenerateRequest } from './types.js'

/** Answer one request offline. */
export function offlineAnswer(request: GenerateRequest): ProviderAnswer {
  const prompt = request.messages.map((m) => m.content).join('\n')
  if (request.schema) {
    const object = offlineObject(request.schema, request.messages)
    const text = JSON.stringify(object)
    return { text, object, usage: { inputTokens: estimateTokens(prompt), outputTokens: estimateTokens(text) }, responseModel: 'offline' }
  }
  const text = offlineText(request)
  return { text, usage: { inputTokens: estimateTokens(prompt), outputTokens: estimateTokens(text) }, responseModel: 'offline' }
}

// Free text: an `<answer>` the graph suggested, else the gist of the last user message,
// tagged with a short digest so different prompts visibly give different answers.
function offlineText(request: GenerateRequest): string {
  const last = [...request.messages].reverse().find((m) => m.role === 'user')?.content ?? ''
  const suggested = /<answer>\s*([\s\S]*?)\s*<\/answer>/i.exec(last)?.[1]
  const digest = createHash('sha256').update(JSON.stringify(request.messages)).digest('hex').slice(0, 8)
  if (suggested) return `${OFFLINE_LABEL} ${suggested}`
  const gist =
    last
      .split(/\n\s*\n/)
      .find((p) => p.trim() !== '')
      ?.trim() ?? ''
  const short = gist.length > 280 ? `${gist.slice(0, 277)}...` : gist
  return `${OFFLINE_LABEL} (${digest}) ${short}`.trim()
}
