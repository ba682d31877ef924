// The gateway's connections under a cap, and who gives way when it is reached. Node's
// maxConnections alone turns the newest caller away: a hostile caller who opens slow
// connections up to the cap (each sending its headers a byte at a time) would shut
// everyone else out until the headers timeout. Instead, near the cap the connection that
// has done nothing for the longest is closed to make room: first one that has not yet
// sent a whole request (still on its headers) or whose request was refused and is only
// being drained; only when there is none, one idle between keep-alive requests (a caller
// that has been served, which may race the close with its next request). Connections
// with a request being served (a caller waiting for its run) are never closed for it. A
// newcomer sends its request at once, so to push it out a flood would have to open the
// cap's worth of connections before the newcomer's first bytes arrive; past the cap,
// with every connection busy, Node drops the newcomer.
import type { Server } from 'node:http'
import type { Socket } from 'node:net'

export interface ConnectionGuard {
  /** Connections open now (those closed to make room no longer count). */
  open(): number
  /** The request on `socket` needs nothing more from it (refused, draining): it may be closed to make room. */
  release(socket: Socket): void
}

export interface ConnectionGuardOptions {
  /** server.maxConnections; 0 leaves the server without a cap and closes nothing. */
  readonly maxConnections: number
  /** Called for each connection closed to make room (`evicted`) or dropped at the cap by Node (`full`). */
  readonly onShed: (reason: 'evicted' | 'full') => void
}

/**
 * Room kept between the eviction threshold and Node's hard cap: Node counts a closed
 * socket until its handle has closed (the next turn of the loop), while a burst of
 * connections is accepted in one.
 */
export function evictionHeadroom(maxConnections: number): number {
  return Math.min(64, Math.max(1, Math.floor(maxConnections / 8)))
}

export function guardConnections(server: Server, options: ConnectionGuardOptions): ConnectionGuard {
  const { maxConnections } = options
  // Insertion order is age: the first entry has waited the longest. A connection is in at
  // most one of the two; in neither while a request on it is served.
  const unproven = new Map<Socket, true>()
  const keptAlive = new Map<Socket, true>()
  const live = new Set<Socket>()
  const threshold = maxConnections - evictionHeadroom(maxConnections)
  const oldest = (newcomer: Socket): Socket | undefined => {
    for (const line of [unproven, keptAlive]) {
      for (const socket of line.keys()) if (socket !== newcomer) return socket
    }
    return undefined
  }
  if (maxConnections > 0) server.maxConnections = maxConnections
  server.on('drop', () => options.onShed('full'))
  server.on('connection', (socket: Socket) => {
    live.add(socket)
    unproven.set(socket, true)
    socket.once('close', () => {
      live.delete(socket)
      unproven.delete(socket)
      keptAlive.delete(socket)
    })
    if (maxConnections === 0) return
    while (live.size > threshold) {
      const victim = oldest(socket)
      // Every other connection is serving a request: Node's cap decides past this point.
      if (victim === undefined) break
      unproven.delete(victim)
      keptAlive.delete(victim)
      live.delete(victim)
      victim.destroy()
      options.onShed('evicted')
    }
  })
  server.on('request', (req: { socket: Socket }, res: { once(event: 'close', listener: () => void): unknown }) => {
    const socket = req.socket
    unproven.delete(socket)
    keptAlive.delete(socket)
    res.once('close', () => {
      // Served: at the end of the keep-alive line, idle from now.
      if (live.has(socket) && !socket.destroyed && !unproven.has(socket)) {
        keptAlive.delete(socket)
        keptAlive.set(socket, true)
      }
    })
  })
  return {
    open: () => live.size,
    release(socket) {
      if (live.has(socket)) unproven.set(socket, true)
    },
  }
}
