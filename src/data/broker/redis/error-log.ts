// Redis connection errors, said once per queue and URL. ioredis retries a lost
// connection every second or so and BullMQ re-emits each failure on every queue: with
// Redis down, `switchyard start` would print several lines a second per pool. The
// first error of a queue is shown; repeats are counted until the queue is ready again,
// and summary() tells how many were held back (said when the broker gives up).
import { redactUrl } from './connection.js'

/** The slice of a BullMQ client this log listens to. */
interface ReadyEmitter {
  on(event: 'ready', listener: () => void): unknown
}

export class RedisErrorLog {
  /** Queue + URL → errors held back since the one shown. */
  private readonly quiet = new Map<string, number>()

  constructor(private readonly warn: (message: string) => void) {}

  report(queue: string, url: string, error: Error): void {
    const key = `${queue} ${url}`
    const held = this.quiet.get(key)
    if (held !== undefined) {
      this.quiet.set(key, held + 1)
      return
    }
    this.quiet.set(key, 0)
    this.warn(`Redis queue ${queue} at ${redactUrl(url)}: ${error.message} (repeats are not shown until it reconnects)`)
  }

  /**
   * A connection error (refused, reset, timed out, closed) said once until `ready`
   * (reconnected() then); any other error is said every time: a connection that stays up
   * never says `ready` again, and nothing else it reports may be held back.
   */
  reportConnection(queue: string, url: string, error: Error, other: (error: Error) => void): void {
    if (connectionError(error)) this.report(queue, url, error)
    else other(error)
  }

  /** The queue's connection is ready: its next error is news again. */
  reconnected(queue: string, url: string): void {
    this.quiet.delete(`${queue} ${url}`)
  }

  /**
   * reconnected() each time `client` (a BullMQ object's) is ready, its first time
   * included: one started while Redis was down said so. Returns the call, for another
   * connection's ready (a Worker's blocking one).
   */
  clearWhenReady(queue: string, url: string, client: Promise<ReadyEmitter>): () => void {
    const reconnected = () => this.reconnected(queue, url)
    void client.then((ready) => (reconnected(), ready.on('ready', reconnected))).catch(() => undefined)
    return reconnected
  }

  /** `Redis: 12 more errors from 3 queues were not shown`, or null when nothing was held back. */
  summary(): string | null {
    let errors = 0
    let queues = 0
    for (const held of this.quiet.values()) {
      if (held === 0) continue
      errors += held
      queues += 1
    }
    if (errors === 0) return null
    return `Redis: ${errors} more error${errors === 1 ? '' : 's'} from ${queues} queue${queues === 1 ? '' : 's'} were not shown`
  }
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
])

/**
 * Redis's refusals of a connection as it opens (a wrong password, none given, too many
 * clients): ioredis reconnects after each, so they repeat at every try as a socket error does.
 */
const REFUSED_AT_CONNECT = /^(WRONGPASS|NOAUTH|ERR max number of clients)/

/** Whether `error` says the connection to Redis is down, or refused as it opened (a socket error, ioredis's "Connection is closed.", AUTH refused). */
export function connectionError(error: Error): boolean {
  const code = (error as { code?: unknown }).code
  return (
    (typeof code === 'string' && CONNECTION_CODES.has(code)) ||
    error.message === 'Connection is closed.' ||
    REFUSED_AT_CONNECT.test(error.message)
  )
}
