// The gateway's connections under a cap, and who gives way when it is reached. Node's
// maxConnections alone turns the newest caller away: a hostile caller who opens slow
// connections up to the cap (each sending its headers a byte at a time) would shut
// everyone else out until the headers timeout. Instead, near the cap a connection that
// is doing nothing is closed to make room, oldest first within each kind: first one that
// has sent part of a request and not the rest (still on its headers) or whose request
// was refused and is only being drained; then one that has sent nothing yet; then one
// idle between keep-alive requests (a caller that has been served); last one whose
// headers are in but whose body is not (a body held back a byte at a time would
// otherwise hold its connection to the request timeout). Connections with a whole
// request being served (a caller waiting for its run) are never closed for it. A
// newcomer sends its request at once, so to push it out a flood would have to open the
// cap's worth of connections before the newcomer's first bytes are read; past the cap,
// with every connection busy, Node drops the newcomer. (New connections that wait their
// turn before their first read, shed-reads.ts, wait only while at most half the cap is
// open: roomy(). Past that they are let go and read at once, as this rule assumes.)
import type { Server } from 'node:http'
import type { Socket } from 'node:net'

export interface ConnectionGuard {
  /** Connections open now (those closed to make room no longer count). */
  open(): number
  /** The request on `socket` needs nothing more from it (refused, draining): it may be closed to make room. */
  release(socket: Socket): void
  /** No cap, or at most half of it open: far from closing anything to make room. */
  roomy(): boolean
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
  // Connections with a request in hand (oldest first), until its response is done.
  const uploading = new Map<Socket, { readonly complete: boolean }>()
  const live = new Set<Socket>()
  const threshold = maxConnections - evictionHeadroom(maxConnections)
  // Who gives way: one that has sent part of a request and stopped there; then one that
  // has sent nothing yet (a caller accepted in the same burst as a flood's connections
  // has its request unread still, while the flood's older connections have been read);
  // last one idle between keep-alive requests: a caller that has been served, whose next
  // request on it may cross the close and fail (a client retries no POST for that).
  // Last of all, one whose request's headers are in but whose body is not (req.complete:
  // every byte of the message received): a caller may run only after its body, so a body
  // held back a byte at a time is as idle as unfinished headers, only its headers got in.
  const victim = (newcomer: Socket): Socket | undefined => {
    for (const socket of unproven.keys()) if (socket !== newcomer && socket.bytesRead > 0) return socket
    for (const socket of unproven.keys()) if (socket !== newcomer) return socket
    for (const socket of keptAlive.keys()) return socket
    for (const [socket, req] of uploading) if (!req.complete) return socket
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
      uploading.delete(socket)
    })
    if (maxConnections === 0) return
    while (live.size > threshold) {
      const out = victim(socket)
      // Every other connection is serving a request: Node's cap decides past this point.
      if (out === undefined) break
      unproven.delete(out)
      keptAlive.delete(out)
      uploading.delete(out)
      live.delete(out)
      out.destroy()
      options.onShed('evicted')
    }
  })
  server.on('request', (req: { socket: Socket; complete: boolean }, res: { once(event: 'close', listener: () => void): unknown }) => {
    const socket = req.socket
    unproven.delete(socket)
    keptAlive.delete(socket)
    uploading.set(socket, req)
    res.once('close', () => {
      uploading.delete(socket)
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
    roomy: () => maxConnections === 0 || live.size <= maxConnections / 2,
  }
}
