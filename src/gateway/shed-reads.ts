// Connections answered 429 are read a few at a time. A caller over its share sends again
// on the connections it was refused on, often hundreds of requests at once, and Node
// reads and parses every readable connection in one pass of the event loop: a burst of
// 500 held the one loop 55–125 ms (RELIABILITY.md, "What bounds the flood"), and a
// neighbour's request, or the Redis reply its run waits for, waited behind it.
//
// So once more than `window` connections have a 429 as their last answer, they are paused
// (TCP keeps what their callers send next in the kernel, not in the loop) and take turns:
// every `turnMs` at most `window` of them are read, one from each flow's line in turn (a
// flow is a caller and the pool it was refused for, as in fair admission), so a flow with
// one connection in line is read at the next turn however long another flow's line is. A
// connection that had nothing to say in its turn goes to the back of its line. A request
// read on its turn is served as any other; only another 429 puts its connection back.
// `idleMs` after its 429 a connection leaves the turns, resumed, whatever they are: before
// the server's keep-alive timeout ends, so that Node never closes as idle a connection
// whose request waits unread in the kernel, and so that a shed caller's request waits at
// most that long. (A "read everyone who waited long" rule would undo the window exactly
// when turns come late, under load: it read the flood's line in one pass again.) With
// `window` or fewer such connections nothing is paused and no timer runs.
//
// After a stall of the loop longer than the keep-alive timeout, the turns' timer and Node's
// keep-alive timeout of the connections in line are due in the same pass of timers: ours
// resumed a connection, Node's closed it before the poll for I/O read the request waiting
// in the kernel (176 of 200 reset, keep-alive 1 s, a 2.5 s stall). So a connection let go
// of past the keep-alive timeout gets that timeout again from then (socket.setTimeout,
// which replaces Node's timer: the caller did send in time, the server was not reading).
// Node clears it itself when the connection's next request begins, as it clears its own.
//
// New connections take turns too. Node accepts one connection per pass of the loop, but
// the passes are short while the loop is free (a bare server accepted a burst of 500 in
// 77 ms, 13 per 2 ms turn), each first request read, parsed and admitted as it came, and a
// neighbour's request and the Redis replies its run waits for shared every pass with them.
// So past `window` connections accepted within one turn, a new connection is paused before
// its first byte is read and waits in a line of its peer's (its remote address), read one
// from each line in turn with the refused flows' lines: one peer's burst delays its own new
// connections, not another's. In the neighbour bench's flood 360 of 506 waited; in nine
// runs side by side the gateway's longest loop stall fell from a median of 57 ms to 28.
// Its first request takes it out of the turns, and so does a turn in which it sent
// nothing: what is paced is parsing first requests, and an empty connection costs nothing
// to read (kept in line, cheap silent connections held every other newcomer of their
// peer's up to `idleMs`). Otherwise `idleMs` after it was accepted it leaves the turns as
// a refused connection does, before the headers timeout, which runs from the accept. A
// connection already open (a caller served before, keeping its connection alive) is never
// in a line of newcomers: it is read at once. Near the connection cap none waits (see
// arrive()).
import type { Socket } from 'node:net'

export interface ShedReadsOptions {
  /** How many connections are read at once, and how many may have a 429 before any is paused. */
  readonly window: number
  /** How long each turn lasts. */
  readonly turnMs: number
  /** How long after its 429 a connection takes turns; then it is read as any other. */
  readonly idleMs: number
  /**
   * The server's keep-alive timeout: a connection let go of later than that after its 429
   * (the loop stalled) gets it again from then. Without it, none is re-armed.
   */
  readonly keepAliveMs?: number
}

/** How many connections in line are read, and how many refusals answered, per turn. */
export const SHED_PER_TURN = 8

/**
 * The turns for a server with these timeouts. Out of them a second before the keep-alive
 * timeout ends (half of it when that is shorter; Node gives a connection a second past it:
 * two seconds for a request sent just in time to be read), and by half the headers
 * timeout, which runs for a new connection from when it is accepted.
 */
export function shedReadsOptions(timeouts: { readonly keepAliveTimeoutMs: number; readonly headersTimeoutMs: number }): ShedReadsOptions {
  const { keepAliveTimeoutMs: keepAlive, headersTimeoutMs: headers } = timeouts
  return {
    window: SHED_PER_TURN,
    turnMs: 2,
    idleMs: Math.min(Math.max(Math.floor(keepAlive / 2), keepAlive - 1000), Math.floor(headers / 2)),
    keepAliveMs: keepAlive,
  }
}

export interface ShedReads {
  /**
   * A connection was accepted (the server's 'connection' event): past `window` within one
   * turn, it waits its turn before its first request is read. Unless `room` is false (the
   * server is near its connection cap): then none waits, and those waiting are let go. Near
   * the cap a connection that has sent nothing may be closed to make room
   * (connection-guard.ts), and one waiting its turn has sent nothing the server has read.
   */
  arrive(socket: Socket, room: boolean): void
  /**
   * A request began on `socket`: it is served as any other, out of line. Call the returned
   * function once its response is done, with its status (0: not written whole) and its
   * flow; a 429 puts the connection in its flow's line, unless another request on it
   * (pipelined) is still being served.
   */
  begin(socket: Socket): (status: number, flow: string) => void
  /** Connections paused or on their turn now, refused or new (0 while nothing is paused). */
  held(): number
  /** Stop taking turns and resume every paused connection (the server is closing). */
  close(): void
}

/** A peer's line of newcomers: no flow of a caller's (`caller\npool`) begins with a NUL. */
const newcomersOf = (socket: Socket): string => `\0${socket.remoteAddress ?? ''}`

interface Entry {
  readonly flow: string
  /** Not yet read: in its peer's line of new connections until its first request. */
  readonly newcomer: boolean
  /** When its 429 was written, or, a newcomer, when it was accepted. */
  readonly since: number
  /** When its current turn began, null while it waits in line. */
  turnAt: number | null
}

export function shedReads(options: ShedReadsOptions): ShedReads {
  // Every connection in the turns (its last answer a 429, or new and not yet read), until it
  // sends, goes idle, or closes; a newcomer also once a turn passes with nothing read.
  const entries = new Map<Socket, Entry>()
  // Paused connections per flow, oldest in line first; the map's own order is the ring of flows.
  const lines = new Map<string, Set<Socket>>()
  // On their turn now (resumed).
  const reading = new Set<Socket>()
  // Requests being served per connection: more than one when its caller pipelines.
  const serving = new WeakMap<Socket, number>()
  const watched = new WeakSet<Socket>()
  let timer: NodeJS.Timeout | null = null
  let lastSweep = 0
  let lastTurn = 0
  // The idle sweep is due this often; the timer ticks for whichever comes first.
  const sweepMs = Math.min(50, options.idleMs / 4)
  const tickMs = Math.max(1, Math.min(options.turnMs, sweepMs))
  let closed = false
  // Connections accepted since `arrivalsAt`; counted afresh once a turn has passed and the
  // pass of the loop that began counting has ended (a pass that lasts many turns, a stall,
  // is one count).
  let arrivals = 0
  let arrivalsAt = Number.NEGATIVE_INFINITY
  let passEnded = true
  // Newcomers to pause once the pass of the loop that accepted them has run its callbacks.
  let arriving: Array<{ readonly socket: Socket; readonly at: number }> = []
  // Newcomers in the turns (in `entries`).
  let newcomers = 0

  const enqueue = (socket: Socket, entry: Entry): void => {
    entry.turnAt = null
    reading.delete(socket)
    socket.pause()
    let line = lines.get(entry.flow)
    if (line === undefined) lines.set(entry.flow, (line = new Set()))
    line.add(socket)
  }
  const giveTurn = (socket: Socket, entry: Entry, now: number): void => {
    const line = lines.get(entry.flow)
    line?.delete(socket)
    if (line?.size === 0) lines.delete(entry.flow)
    entry.turnAt = now
    reading.add(socket)
    socket.resume()
  }
  /** Out of the turns; resumed if it was paused. */
  const forget = (socket: Socket): void => {
    const entry = entries.get(socket)
    if (entry === undefined) return
    entries.delete(socket)
    reading.delete(socket)
    if (entry.newcomer) newcomers -= 1
    const line = lines.get(entry.flow)
    if (line?.delete(socket) === true) {
      if (line.size === 0) lines.delete(entry.flow)
      socket.resume()
    }
  }
  /**
   * Let go of from the turns past the keep-alive timeout (the loop stalled): Node's own
   * timeout may be due in this same pass of timers, before the request waiting in the
   * kernel is read. The keep-alive timeout again from now; Node clears it when the next
   * request begins.
   */
  const rearmIfLate = (socket: Socket, entry: Entry, now: number): void => {
    // A newcomer has had no answer, so no keep-alive timeout: its headers timeout runs as Node set it.
    if (entry.newcomer) return
    if (options.keepAliveMs !== undefined && now - entry.since >= options.keepAliveMs) socket.setTimeout(options.keepAliveMs)
  }
  const stopTurns = (): void => {
    if (timer !== null) {
      clearInterval(timer)
      // Every connection with a 429 is in line or on its turn while the turns run.
      const now = performance.now()
      for (const [socket, entry] of entries) rearmIfLate(socket, entry, now)
    }
    timer = null
    for (const line of lines.values()) for (const socket of line) socket.resume()
    lines.clear()
    reading.clear()
    for (const entry of entries.values()) entry.turnAt = null
  }
  const sweepIdle = (now: number): void => {
    lastSweep = now
    for (const [socket, entry] of entries) {
      if (now - entry.since < options.idleMs) continue
      // Held back by the turns (while they run), not merely idle since its 429.
      if (timer !== null) rearmIfLate(socket, entry, now)
      forget(socket)
    }
  }
  const turn = (): void => {
    const now = performance.now()
    if (now - lastSweep >= sweepMs) sweepIdle(now)
    if (entries.size <= options.window) {
      stopTurns()
      return
    }
    if (now - lastTurn < options.turnMs) return
    lastTurn = now
    // Turns that ended with nothing read: to the back of their line, or, a newcomer, out of
    // the turns (resumed already: nothing of it was waiting to be parsed).
    for (const socket of reading) {
      const entry = entries.get(socket)
      if (entry?.turnAt == null || now - entry.turnAt < options.turnMs) continue
      if (entry.newcomer) forget(socket)
      else enqueue(socket, entry)
    }
    // The window: one from each flow's line in turn, the flow served going to the back of the ring.
    while (reading.size < options.window && lines.size > 0) {
      for (const [flow, line] of [...lines]) {
        if (reading.size >= options.window) break
        const socket = line.values().next().value as Socket
        const entry = entries.get(socket) as Entry
        giveTurn(socket, entry, now)
        if (lines.has(flow)) {
          lines.delete(flow)
          lines.set(flow, line)
        }
      }
    }
  }
  /** Into the turns in `flow`'s line: paused at once if they run or a newcomer starts them, else once past the window. */
  const hold = (socket: Socket, flow: string, newcomer: boolean, now: number): void => {
    forget(socket)
    const entry: Entry = { flow, newcomer, since: now, turnAt: null }
    entries.set(socket, entry)
    if (newcomer) newcomers += 1
    if (!watched.has(socket)) {
      watched.add(socket)
      socket.once('close', () => forget(socket))
    }
    if (timer !== null) {
      enqueue(socket, entry)
      return
    }
    if (now - lastSweep >= sweepMs) sweepIdle(now)
    if (entries.size <= options.window && !newcomer) return
    // Past the window: every connection in the turns joins its line, and the turns begin.
    // (Begun for a newcomer with the window not full, they read it at the next turn and stop.)
    for (const [s, e] of entries) enqueue(s, e)
    lastTurn = now
    timer = setInterval(turn, tickMs)
    timer.unref()
  }
  return {
    arrive(socket, room) {
      if (closed || socket.destroyed) return
      if (!room) {
        arriving = []
        if (newcomers > 0) for (const [s, entry] of entries) if (entry.newcomer) forget(s)
        return
      }
      const now = performance.now()
      if (passEnded && now - arrivalsAt >= options.turnMs) {
        arrivals = 0
        arrivalsAt = now
        passEnded = false
        setImmediate(() => {
          passEnded = true
        })
      }
      arrivals += 1
      if (arrivals <= options.window) return
      // Paused in the check phase of this pass, not here: the server's own 'connection'
      // listener has scheduled the socket's resume for the next tick, and no read happens
      // before the next poll for I/O.
      arriving.push({ socket, at: now })
      if (arriving.length > 1) return
      setImmediate(() => {
        const paused = arriving
        arriving = []
        for (const { socket: s, at } of paused) if (!closed && !s.destroyed) hold(s, newcomersOf(s), true, at)
      })
    },
    begin(socket) {
      serving.set(socket, (serving.get(socket) ?? 0) + 1)
      forget(socket)
      if (timer !== null && entries.size <= options.window) stopTurns()
      return (status, flow) => {
        const left = (serving.get(socket) ?? 1) - 1
        serving.set(socket, left)
        if (status === 429 && left === 0 && !closed && !socket.destroyed) hold(socket, flow, false, performance.now())
      }
    },
    held: () => (timer === null ? 0 : entries.size),
    close() {
      closed = true
      arriving = []
      stopTurns()
      entries.clear()
    },
  }
}

/**
 * Refusals answered a few per turn of the event loop: `wait(flow)` resolves at most
 * `perTurn` waiters per turn, one from each flow in turn, each turn after the loop has
 * polled for I/O again. A pool's admission script refuses a batch of submissions in one
 * reply from Redis, and each refusal costs the loop ~300 µs to answer: 285 of them
 * answered in one pass held it 107 ms during the flood, and a neighbour's request and
 * Redis replies waited behind them. Paced, a refused caller hears its 429 a few turns
 * later; everyone else is read in between, and another flow's 429 is not behind a flood's.
 * At most `maxWaiting` wait: past that a refusal is answered at once, as without pacing. A
 * waiting refusal writes nothing, so Node's own brake on a pipelining caller (it stops
 * reading a connection whose answers are not yet written out) does not hold, and an
 * unbounded line would keep every request such a caller pipelines in memory. A waiter
 * whose caller has gone (`gone()`) goes on without taking a place.
 */
export function refusalPace(perTurn: number, maxWaiting: number): (flow: string, gone: () => boolean) => Promise<void> {
  // Per flow, oldest first; the map's own order is the ring of flows.
  const lines = new Map<string, Array<{ readonly go: () => void; readonly gone: () => boolean }>>()
  let waiting = 0
  let scheduled = false
  const release = (): void => {
    let placed = 0
    while (placed < perTurn && lines.size > 0) {
      for (const [flow, line] of [...lines]) {
        if (placed >= perTurn) break
        const next = line.shift()
        if (line.length === 0) lines.delete(flow)
        else {
          lines.delete(flow)
          lines.set(flow, line)
        }
        if (next === undefined) continue
        waiting -= 1
        if (!next.gone()) placed += 1
        next.go()
      }
    }
    // Scheduled from here, the next release runs in the next turn, after its poll for I/O.
    scheduled = waiting > 0
    if (scheduled) setImmediate(release)
  }
  return (flow, gone) => {
    if (waiting >= maxWaiting) return Promise.resolve()
    return new Promise<void>((go) => {
      let line = lines.get(flow)
      if (line === undefined) lines.set(flow, (line = []))
      line.push({ go, gone })
      waiting += 1
      if (scheduled) return
      scheduled = true
      setImmediate(release)
    })
  }
}
