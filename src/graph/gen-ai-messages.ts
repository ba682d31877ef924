// A model call's messages and answer as the OpenTelemetry GenAI conventions record them on
// the `chat` span: `gen_ai.input.messages` and `gen_ai.output.messages`, JSON strings of
// `[{ role, parts: [{ type: 'text', content }] }]` (the output's messages carry a
// `finish_reason`). Opt-in content in the conventions; here the pool's `capture` decides,
// applied by the process's exporter (masked when `redacted`, dropped when `none`).
//
// Bounded, keeping the JSON valid (as the conventions suggest): each part's content is cut
// at MESSAGE_CONTENT_LIMIT characters and the whole list at MESSAGES_LIMIT; a cut says how
// much it left out, so a reader knows the record is partial.
import type { ChatMessage } from './types.js'

/** Longest content of one message part, in characters. */
export const MESSAGE_CONTENT_LIMIT = 8192
/** Most characters of content recorded for one call's messages, all parts together. */
export const MESSAGES_LIMIT = 32_768

interface TextPart {
  readonly type: 'text'
  readonly content: string
}

/** `gen_ai.input.messages` of a request (system messages are part of the chat history, so they are here too). */
export function inputMessages(messages: readonly ChatMessage[]): string {
  let budget = MESSAGES_LIMIT
  return JSON.stringify(
    messages.map((message) => {
      const keep = Math.min(message.content.length, MESSAGE_CONTENT_LIMIT, budget)
      budget -= keep
      return { role: message.role, parts: [textPart(message.content, keep)] }
    }),
  )
}

/** `gen_ai.output.messages` of an answer: one assistant message (one choice). */
export function outputMessages(text: string, finishReason: 'stop' | 'length' = 'stop'): string {
  const part = textPart(text, Math.min(text.length, MESSAGE_CONTENT_LIMIT))
  return JSON.stringify([{ role: 'assistant', parts: [part], finish_reason: finishReason }])
}

/** The first `keep` characters of `content`, and a note of what was left out. */
function textPart(content: string, keep: number): TextPart {
  if (content.length <= keep) return { type: 'text', content }
  return { type: 'text', content: `${content.slice(0, keep)}…[${content.length - keep} more characters]` }
}
