// An error answer before the body has arrived (a 413, a 401 to a POST with a body, …):
// answering and closing while the caller still sends made the kernel reset the
// connection, and a client that writes its whole body before it reads (curl, Python's
// http.client, most SDKs) got EPIPE or ECONNRESET instead of the answer. So the rest of
// the body is read and discarded first, within bounds; the answer then closes the
// connection only when the body did not end (a client that stalls, lies about its
// length, or sends more than the bounds), like nginx's lingering close.
import type { IncomingMessage } from 'node:http'

/** Bytes read and discarded before answering anyway. */
export const DRAIN_MAX_BYTES = 128 * 1024 * 1024
/** How long the rest of a body may take, in all. */
export const DRAIN_MAX_MS = 30_000
/** How long the body may pause before the answer goes out without it (a stalled or lying client). */
export const DRAIN_IDLE_MS = 1_000

/**
 * Read and discard what is left of `req`'s body, keeping none of it. True when the body
 * ended (the connection can serve the next request); false when a bound cut it short.
 */
export function drainRequest(req: IncomingMessage): Promise<boolean> {
  if (req.complete) return Promise.resolve(true)
  if (req.destroyed || req.readableEnded) return Promise.resolve(false)
  const declared = Number(req.headers['content-length'] ?? NaN)
  if (declared > DRAIN_MAX_BYTES) return Promise.resolve(false)
  return new Promise((resolve) => {
    let bytes = 0
    const finish = (ended: boolean) => {
      clearTimeout(total)
      clearTimeout(idle)
      req.off('data', onData)
      req.off('end', onEnd)
      req.off('close', onClose)
      if (!ended) req.pause()
      resolve(ended)
    }
    const total = setTimeout(() => finish(false), DRAIN_MAX_MS)
    let idle = setTimeout(() => finish(false), DRAIN_IDLE_MS)
    const onData = (chunk: Buffer) => {
      bytes += chunk.length
      if (bytes > DRAIN_MAX_BYTES) return finish(false)
      clearTimeout(idle)
      idle = setTimeout(() => finish(false), DRAIN_IDLE_MS)
    }
    const onEnd = () => finish(true)
    const onClose = () => finish(false)
    req.on('data', onData)
    req.once('end', onEnd)
    req.once('close', onClose)
    req.resume()
  })
}
