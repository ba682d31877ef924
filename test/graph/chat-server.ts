// A local server speaking a provider's wire format on 127.0.0.1:0: OpenAI chat
// completions (also what Ollama, vLLM, LM Studio and llama.cpp serve) or Anthropic
// messages. Each request takes the next scripted reply; request bodies are kept.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export type Reply =
  | { readonly content: string; readonly usage?: { prompt_tokens: number; completion_tokens: number } }
  | { readonly status: number; readonly error: string }
  | { readonly hang: true }

export type WireFormat = 'openai' | 'anthropic'

export interface ChatServer {
  readonly baseURL: string
  readonly requests: Array<Record<string, unknown>>
  readonly paths: string[]
  close(): Promise<void>
}

export async function startChatServer(replies: Reply[], format: WireFormat = 'openai'): Promise<ChatServer> {
  const requests: Array<Record<string, unknown>> = []
  const paths: string[] = []
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = ''
    req.on('data', (chunk: Buffer) => (body += chunk.toString()))
    req.on('end', () => {
      const request = JSON.parse(body) as Record<string, unknown>
      requests.push(request)
      paths.push(req.url ?? '')
      const reply = replies.shift() ?? { status: 500, error: 'no scripted reply left' }
      if ('hang' in reply) return // never answers: the client's timeout must fire
      if ('status' in reply) {
        res.writeHead(reply.status, { 'content-type': 'application/json', ...(reply.status === 429 ? { 'retry-after': '1' } : {}) })
        res.end(
          JSON.stringify(
            format === 'anthropic'
              ? { type: 'error', error: { type: 'rate_limit_error', message: reply.error } }
              : { error: { message: reply.error, type: 'rate_limit_exceeded', code: null } },
          ),
        )
        return
      }
      const usage = reply.usage ?? { prompt_tokens: 120, completion_tokens: 30 }
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(
        JSON.stringify(
          format === 'anthropic'
            ? anthropicMessage(request, reply.content, usage)
            : openaiCompletion(request, reply.content, usage, requests.length),
        ),
      )
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    paths,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

function openaiCompletion(
  request: Record<string, unknown>,
  content: string,
  usage: { prompt_tokens: number; completion_tokens: number },
  n: number,
) {
  return {
    id: `chatcmpl-${n}`,
    object: 'chat.completion',
    created: 1_700_000_000,
    model: String(request.model ?? 'local'),
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
    usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens },
  }
}

// Anthropic answers structured requests through the tool the SDK forces; text otherwise.
function anthropicMessage(request: Record<string, unknown>, content: string, usage: { prompt_tokens: number; completion_tokens: number }) {
  const tool = (request.tools as Array<{ name: string }> | undefined)?.[0]
  let input: unknown
  try {
    input = JSON.parse(content)
  } catch {
    input = undefined
  }
  const block = tool && input !== undefined ? { type: 'tool_use', id: 'toolu_01', name: tool.name, input } : { type: 'text', text: content }
  return {
    id: 'msg_01',
    type: 'message',
    role: 'assistant',
    model: String(request.model ?? 'local'),
    content: [block],
    stop_reason: block.type === 'tool_use' ? 'tool_use' : 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: usage.prompt_tokens, output_tokens: usage.completion_tokens },
  }
}
