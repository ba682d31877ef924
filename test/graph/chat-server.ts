// A local server speaking the OpenAI chat-completions wire format, on 127.0.0.1:0.
// Each request takes the next scripted reply; every request body is kept for assertions.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export type Reply =
  | { readonly content: string; readonly usage?: { prompt_tokens: number; completion_tokens: number } }
  | { readonly status: number; readonly error: string }
  | { readonly hang: true }

export interface ChatServer {
  readonly baseURL: string
  readonly requests: Array<Record<string, unknown>>
  close(): Promise<void>
}

export async function startChatServer(replies: Reply[]): Promise<ChatServer> {
  const requests: Array<Record<string, unknown>> = []
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = ''
    req.on('data', (chunk: Buffer) => (body += chunk.toString()))
    req.on('end', () => {
      requests.push(JSON.parse(body) as Record<string, unknown>)
      const reply = replies.shift() ?? { status: 500, error: 'no scripted reply left' }
      if ('hang' in reply) return // never answers: the client's timeout must fire
      if ('status' in reply) {
        res.writeHead(reply.status, { 'content-type': 'application/json', ...(reply.status === 429 ? { 'retry-after': '1' } : {}) })
        res.end(JSON.stringify({ error: { message: reply.error, type: 'rate_limit_exceeded', code: null } }))
        return
      }
      const usage = reply.usage ?? { prompt_tokens: 120, completion_tokens: 30 }
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(
        JSON.stringify({
          id: `chatcmpl-${requests.length}`,
          object: 'chat.completion',
          created: 1_700_000_000,
          model: String(requests.at(-1)?.model ?? 'local'),
          choices: [{ index: 0, message: { role: 'assistant', content: reply.content }, finish_reason: 'stop' }],
          usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens },
        }),
      )
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
