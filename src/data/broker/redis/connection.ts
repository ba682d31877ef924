// Connecting to Redis for BullMQ, and the one server setting BullMQ cannot live
// without: `maxmemory-policy noeviction`. With any other policy Redis may evict job
// keys under memory pressure and runs vanish without a trace.
import type { EventEmitter } from 'node:events'
import { RedisConnection } from 'bullmq'
import { SwitchyardError } from '../../../control/index.js'

/**
 * What to do when the server's eviction policy is not `noeviction`; `none` skips the
 * check (a process whose parent already made it, such as the gateway under `start`).
 */
export type EvictionCheck = 'refuse' | 'warn' | 'none'

/** The URL with its password masked, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password) parsed.password = '***'
    return parsed.toString()
  } catch {
    return '<unparseable Redis URL>'
  }
}

export interface RedisConnectionOptions {
  readonly url: string
  readonly enableOfflineQueue?: boolean
  readonly autoResendUnfulfilledCommands?: boolean
  readonly maxRetriesPerRequest: number | null
  readonly retryStrategy: (attempt: number) => number
}

/** The longest wait between two tries to reconnect, so a client is back within this of Redis. */
export const RECONNECT_MAX_MS = 1000

/**
 * How long a connection waits before its `attempt`th try to reconnect (ioredis's
 * `retryStrategy`): 50 ms doubling to RECONNECT_MAX_MS, each with up to half of it taken off
 * at random, so a machine's many connections do not come back in step. BullMQ's own
 * default waits e^attempt ms (at least 1 s, at most 20 s): after an outage of 15 s its
 * connections tried again 3 s after Redis was back, after 25 s 13 s after, and up to 20 s
 * after a longer one. All that while a pool took no run and the gateway answered 503. A
 * refused connect costs Redis nothing, so trying once a second is cheap.
 */
export function reconnectDelay(attempt: number): number {
  const ceiling = Math.min(RECONNECT_MAX_MS, 50 * 2 ** Math.max(0, attempt - 1))
  return Math.round(ceiling * (1 - Math.random() / 2))
}

/**
 * BullMQ connection options for a URL (each Queue/Worker/QueueEvents opens its own),
 * reconnecting within a second of Redis coming back (reconnectDelay). A command sent
 * while Redis is gone waits for it however long that is (`maxRetriesPerRequest: null`, as
 * BullMQ asks of a Worker's connections): ioredis's default fails it after 20 tries to
 * reconnect, which the old backoff made minutes and reconnectDelay makes 13 s, and a
 * worker whose graph ended during a 15 s outage then failed the run with that error,
 * instead of recording its result once Redis was back.
 * `failFast` (the producer; also a worker's reaper and its queue-depth read, which must
 * not act on, or wait for, a Redis that went away): a command fails at once while Redis is
 * unreachable, and a command in flight when the connection broke is never sent again after
 * reconnecting, so a submit the gateway gave up on (and answered 503 for) cannot land later. Such a
 * command fails as the connection breaks (`maxRetriesPerRequest: 0`, an error that
 * lostConnection() knows): without it ioredis drops it on reconnecting without settling it,
 * and its caller waits for the broker's command bound (10 s) for nothing.
 */
export function connectionFor(url: string, options: { failFast?: boolean } = {}): RedisConnectionOptions {
  const retryStrategy = reconnectDelay
  return options.failFast
    ? { url, enableOfflineQueue: false, autoResendUnfulfilledCommands: false, maxRetriesPerRequest: 0, retryStrategy }
    : { url, maxRetriesPerRequest: null, retryStrategy }
}

/**
 * Whether a command failed because the connection broke while it was in flight: it may
 * have run, its reply lost. (A command sent while the connection was down fails otherwise:
 * it never left.) ioredis says so with its MaxRetriesPerRequestError.
 */
export function lostConnection(error: unknown): boolean {
  return error instanceof Error && error.name === 'MaxRetriesPerRequestError'
}

/** within()'s bound ran out: the command may still run, its reply too late for anyone. */
export class Unanswered extends Error {
  override readonly name = 'Unanswered'
}

/** Whether a failed command (or a broker error wrapping it) may have run all the same: lost in flight, or unanswered. */
export function mayHaveRun(error: unknown): boolean {
  const cause = (error as { cause?: unknown } | null)?.cause ?? error
  return lostConnection(cause) || cause instanceof Unanswered
}

/** ioredis's error for a command sent while the connection is down (it has no class of its own). */
const NOT_CONNECTED = "Stream isn't writeable and enableOfflineQueue options is false"

/**
 * Whether a broker error says Redis could not be asked, and may answer if asked again: the
 * command was sent while the connection was down, lost in flight as it broke, or not
 * answered within the bound. An answer Redis gave (an error, or data that does not parse)
 * is not one: asking again gets it again.
 */
export function unreachable(error: unknown): boolean {
  if (!(error instanceof SwitchyardError) || error.code !== 'BROKER_UNAVAILABLE') return false
  return mayHaveRun(error) || (error.cause instanceof Error && error.cause.message === NOT_CONNECTED)
}

/** A BullMQ Queue, Worker or QueueEvents: each opens its own connection. */
interface Closable {
  readonly name: string
  waitUntilReady(): Promise<unknown>
  close(force?: boolean): Promise<void>
  readonly client: Promise<{ disconnect(): void }>
}

/**
 * Close a BullMQ object within `boundMs`; past the bound (Redis gone, so BullMQ's
 * close() would wait forever) drop its connection instead. The connection's handshake
 * (the INFO that reads the server version) is let to settle first, for at most a second,
 * so that a connection that is coming up is closed with QUIT, not cut.
 */
export async function closeBounded(closable: Closable, boundMs: number, options: { force?: boolean } = {}): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  await Promise.race([
    closable.waitUntilReady().catch(() => undefined),
    new Promise((resolve) => (timer = setTimeout(resolve, Math.min(boundMs, 1000)))),
  ])
  clearTimeout(timer)
  try {
    await within(closable.close(options.force), boundMs, `closing ${closable.name}`)
  } catch {
    // Once it is up, if ever: a connection that never came up has nothing to drop.
    void closable.client.then(
      (client) => client.disconnect(),
      () => undefined,
    )
  }
}

/**
 * BullMQ 5 ends the process with an unhandled rejection when a connection closed before
 * it came up fails afterwards: closed mid-connect after an earlier try failed (Redis
 * unreachable: the rejection is that try's ECONNREFUSED or ETIMEDOUT), or while its INFO
 * was in flight ("Connection is closed"). Its constructor re-emits that failure as an
 * 'error' event (`this.initializing.catch((err) => this.emit('error', err))`), close()
 * has removed every listener by then, and an EventEmitter throws an 'error' nobody listens
 * to. BullMQ 6 emits it only when someone listens (taskforcesh/bullmq, redis-connection.ts);
 * this does the same for BullMQ 5's RedisConnection, and nothing else: while a Queue,
 * Worker or QueueEvents is open its connections always have its listener. CI met it once as
 * a stray ECONNREFUSED after "an unreachable Redis fails connect()"; a host that drops
 * packets met it at every close. Remove with BullMQ 6, which the Python worker's bullmq
 * cannot follow yet.
 */
function emitErrorsOnlyToListeners(): void {
  const prototype = RedisConnection.prototype as EventEmitter & { [PATCHED]?: true }
  if (prototype[PATCHED]) return
  const emit = prototype.emit
  prototype.emit = function (this: EventEmitter, event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'error' && this.listenerCount('error') === 0) return false
    return emit.call(this, event, ...args)
  }
  prototype[PATCHED] = true
}
const PATCHED = Symbol.for('switchyard.redis-connection.emit')
emitErrorsOnlyToListeners()

/** The slice of an ioredis client this check needs (BullMQ's client proxies it through). */
interface ConfigClient {
  config(subcommand: 'GET', parameter: string): Promise<unknown>
}

function canConfig(client: object): client is ConfigClient {
  return typeof (client as Partial<ConfigClient>).config === 'function'
}

/** Redis refused a command to this ACL user (NOPERM): its rules, not a fault. */
function deniedByAcl(error: unknown): boolean {
  return /^NOPERM\b/.test((error as Error | null)?.message ?? '')
}

/**
 * Check `maxmemory-policy` with CONFIG GET. Refuses (BROKER_UNAVAILABLE) or warns
 * when it is not `noeviction`. An ACL user may not be allowed CONFIG: that is one
 * warning line, never a failure, because a locked-down user is the recommended setup;
 * `quietWhenDenied` (workers, whose pool users `switchyard acl` never grants CONFIG)
 * says nothing then, since the gateway's own check already said it once.
 */
export async function checkEvictionPolicy(
  client: object,
  url: string,
  mode: EvictionCheck,
  warn: (message: string) => void,
  options: { quietWhenDenied?: boolean } = {},
): Promise<void> {
  if (mode === 'none') return
  let reply: unknown
  try {
    if (!canConfig(client)) throw new Error('this Redis client cannot send CONFIG')
    reply = await client.config('GET', 'maxmemory-policy')
  } catch (error) {
    const denied = deniedByAcl(error)
    if (denied && options.quietWhenDenied) return
    warn(
      denied
        ? `Switchyard cannot check the eviction policy of ${redactUrl(url)}: its ACL user may not run CONFIG GET (as 'switchyard acl' sets it up); ` +
            'make sure that server runs with "maxmemory-policy noeviction", or queued runs can be evicted and lost.'
        : `Switchyard could not read maxmemory-policy on ${redactUrl(url)} (${(error as Error).message}). ` +
            'Make sure the server runs with "maxmemory-policy noeviction", or queued runs can be evicted and lost.',
    )
    return
  }
  const policy = Array.isArray(reply) ? String(reply[1]) : String(reply)
  if (policy === 'noeviction') return
  const message =
    `Redis at ${redactUrl(url)} runs with maxmemory-policy=${policy}: Redis may evict queued runs under memory pressure. ` +
    'Set "maxmemory-policy noeviction" (redis.conf, or CONFIG SET maxmemory-policy noeviction).'
  if (mode === 'warn') {
    warn(`WARNING: ${message}`)
    return
  }
  throw new SwitchyardError('BROKER_UNAVAILABLE', `${message} (refusing to start; pass evictionCheck: 'warn' to run anyway)`)
}

/** Reject with BROKER_UNAVAILABLE when `promise` has not settled within `ms`. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const message = `${what} did not answer within ${ms} ms`
      reject(new SwitchyardError('BROKER_UNAVAILABLE', message, { retryable: true, cause: new Unanswered(message) }))
    }, ms)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}
