// Connections answered 429 are read a few at a time. A caller over its share sends again
// on the connections it was refused on, often hundreds of requests at once, and Node
// reads and parses every readable connection in one pass of the event loop: a burst of
// 500 held the one loop 55–125 ms (RELIABILITY.md, "What bounds the flood"), and a
// neighbour's request, or the Redis reply its run waits for, waited behind it. So a
// connection is paused once its 429 is written (TCP keeps what its caller sends next in
// the kernel, not in the loop), and the paused ones take turns: every `turnMs` at most
// `window` of them are read, longest-waiting first, and one that had nothing to say in its
// turn goes to the back of the line. A request read on its turn is served as any other;
// only another 429 puts its connection back in line. A connection never answered 429 is
// never paused, and with nobody in line nothing runs.
import type { Socket } from 'node:net'

export interface ShedReadsOptions {
  /** How many connections in line are read at once. */
  readonly window: number
  /** How long each turn lasts. */
  readonly turnMs: number
  /**
   * The longest a connection in line waits for its turn: the window grows with the line
   * so that each is read within this long. Well inside the server's keep-alive timeout,
   * so that a request waiting in the kernel is read before the connection counts as idle.
   */
  readonly maxWaitMs: number
  /** A connection that sent nothing for this long since its 429 leaves the line: its caller has stopped. */
  readonly idleMs: number
}

export const SHED_READS: ShedReadsOptions = { window: 8, turnMs: 2, maxWaitMs: 500, idleMs: 5000 }

export interface ShedReads {
  /**
   * A request began on `socket`: it is served as any other, out of line. Call the returned
   * function once its response is done, with its status (0: not written whole); a 429
   * puts the connection in line, unless another request on it (pipelined) is being served.
   */
  begin(socket: Socket): (status: number) => void
  /** Connections in line or on their turn now. */
  held(): number
  /** Stop taking turns and resume every connection in line (the server is closing). */
  close(): void
}

export function shedReads(options: ShedReadsOptions = SHED_READS): ShedReads {
  // Insertion order is the line: the first entry has waited the longest. The value is when
  // its 429 was written.
  const line = new Map<Socket, number>()
  // On their turn now: when their 429 was written, and when the turn began.
  const reading = new Map<Socket, { readonly since: number; readonly turn: number }>()
  const watched = new WeakSet<Socket>()
  // Requests being served per connection: more than one when its caller pipelines.
  const serving = new WeakMap<Socket, number>()
  let timer: NodeJS.Timeout | null = null
  let closed = false

  const forget = (socket: Socket): void => {
    line.delete(socket)
    reading.delete(socket)
  }
  const turn = (): void => {
    const now = performance.now()
    for (const [socket, { since, turn }] of reading) {
      if (now - turn < options.turnMs) continue
      reading.delete(socket)
      // Nothing since its 429 for idleMs: left resumed, as any connection.
      if (now - since >= options.idleMs) continue
      socket.pause()
      line.set(socket, since)
    }
    const window = Math.max(options.window, Math.ceil((line.size * options.turnMs) / options.maxWaitMs))
    for (const [socket, since] of line) {
      if (reading.size >= window) break
      line.delete(socket)
      reading.set(socket, { since, turn: now })
      socket.resume()
    }
    if (line.size === 0 && reading.size === 0 && timer !== null) {
      clearInterval(timer)
      timer = null
    }
  }
  const hold = (socket: Socket): void => {
    if (closed || socket.destroyed) return
    reading.delete(socket)
    socket.pause()
    // A 429 again: its wait starts over, at the back of the line.
    line.delete(socket)
    line.set(socket, performance.now())
    if (!watched.has(socket)) {
      watched.add(socket)
      socket.once('close', () => forget(socket))
    }
    if (timer === null) {
      timer = setInterval(turn, options.turnMs)
      timer.unref()
    }
  }
  return {
    begin(socket) {
      serving.set(socket, (serving.get(socket) ?? 0) + 1)
      const paused = line.has(socket)
      forget(socket)
      if (paused) socket.resume()
      return (status) => {
        const left = (serving.get(socket) ?? 1) - 1
        serving.set(socket, left)
        if (status === 429 && left === 0) hold(socket)
      }
    },
    held: () => line.size + reading.size,
    close() {
      closed = true
      if (timer !== null) clearInterval(timer)
      timer = null
      for (const socket of line.keys()) socket.resume()
      line.clear()
      reading.clear()
    },
  }
}
