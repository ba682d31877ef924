// The IPC protocol (ipc-protocol.ts) over a plain stream, one JSON message per line:
// how `switchyard dev` talks to a Python worker, which gets the stream as its file
// descriptor 3. Node's own IPC channel carries the same messages to node workers;
// this is the documented way to reach a process that is not Node.
import type { Duplex } from 'node:stream'
import type { ParentMessage } from './ipc-protocol.js'

/** What linkChild needs of a channel to its child. */
export interface ChildChannel {
  send(message: ParentMessage): void
  readonly connected: boolean
  onMessage(listener: (message: unknown) => void): void
}

/** A line longer than this ends the channel: a worker cannot make this process buffer without bound. */
export const MAX_LINE_BYTES = 256 * 1024 * 1024

/**
 * A ChildChannel over a duplex stream (the child's fd 3).
 *
 * @example
 * const child = spawn('python3', args, { stdio: ['pipe', 'pipe', 'pipe', 'pipe'] })
 * linkChild(child, source, { channel: ndjsonChannel(child.stdio[3] as Duplex) })
 */
export function ndjsonChannel(stream: Duplex, options: { maxLineBytes?: number; onError?: (message: string) => void } = {}): ChildChannel {
  const max = options.maxLineBytes ?? MAX_LINE_BYTES
  const listeners: ((message: unknown) => void)[] = []
  let open = true
  let pending: Buffer[] = []
  let pendingBytes = 0
  const fail = (message: string) => {
    open = false
    options.onError?.(message)
    stream.destroy()
  }
  stream.on('data', (chunk: Buffer) => {
    let start = 0
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, start)) {
      pending.push(chunk.subarray(start, i))
      const line = Buffer.concat(pending).toString('utf8')
      pending = []
      pendingBytes = 0
      start = i + 1
      if (line.trim() === '') continue
      let message: unknown
      try {
        message = JSON.parse(line)
      } catch {
        options.onError?.(`a line from the worker is not JSON: ${line.slice(0, 80)}`)
        continue
      }
      for (const listener of listeners) listener(message)
    }
    if (start < chunk.length) {
      pending.push(chunk.subarray(start))
      pendingBytes += chunk.length - start
      if (pendingBytes > max) fail(`a message from the worker is longer than ${max} bytes`)
    }
  })
  const closed = () => {
    open = false
  }
  stream.on('close', closed)
  stream.on('end', closed)
  stream.on('error', closed)
  return {
    get connected() {
      return open && !stream.destroyed && stream.writable
    },
    send(message) {
      if (open && stream.writable) stream.write(`${JSON.stringify(message)}\n`)
    },
    onMessage(listener) {
      listeners.push(listener)
    },
  }
}

/** Node's IPC channel of a forked child, as a ChildChannel. */
export function nodeChannel(child: {
  send?: (message: ParentMessage) => boolean
  readonly connected: boolean
  on(event: 'message', listener: (message: unknown) => void): unknown
}): ChildChannel {
  return {
    get connected() {
      return child.connected
    },
    send(message) {
      if (child.connected) child.send?.(message)
    },
    onMessage(listener) {
      child.on('message', listener)
    },
  }
}
