// A worker process's heartbeat on Redis: "I am alive" every HEARTBEAT.beatMs into the
// pool's `sy-workers` sorted set (scripts.ts BEAT_LUA: score = server time + ttlMs).
// The gateway reads it to refuse a run no live worker would take (POOL_UNAVAILABLE);
// reapers (reaper.ts) read it to hand a dead worker's runs to another at once.
//
// It beats from a thread of its own, with its own connection: a graph that blocks the
// event loop must not look like a dead process (its runs would be run twice). The
// watchdog (worker/watchdog.ts) ends a process whose loop stays blocked past a run's
// deadline; then the beats stop, and the runs are reaped.
import { randomBytes } from 'node:crypto'
import { createRequire } from 'node:module'
import { hostname } from 'node:os'
import { Worker } from 'node:worker_threads'

import { RECONNECT_MAX_MS } from './connection.js'
import { BEAT_LUA } from './scripts.js'

/**
 * The heartbeat protocol, the same for every worker language. A worker that has not
 * beaten for ttlMs is dead; a reaper looks every reapMs, and only once it has itself
 * been connected for armMs (so that, after a Redis restart, live workers have beaten
 * again before anyone is judged). A crashed worker's runs are back in the queue within
 * ttlMs + reapMs of its last beat.
 */
export const HEARTBEAT = { beatMs: 500, ttlMs: 2000, reapMs: 500, armMs: 5000 } as const

export interface Heartbeat {
  /** This process's member in the workers set (`<host>:<pid>:<random>`). */
  readonly workerId: string
  /** Resolves once the first beat is in Redis: take no run before (a crash could not be noticed). */
  readonly beating: Promise<void>
  /** Stop beating and leave the set (a clean exit is not a death). */
  stop(): Promise<void>
}

/** `<host>:<pid>:<random>`: unique across restarts of a pid and across machines. */
export function newWorkerId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`
}

// Plain JavaScript, evaluated in the thread: ioredis, resolved as BullMQ resolves it.
const THREAD_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads')
const Redis = require(workerData.ioredis)
// Back within a second of Redis, as every connection (connection.ts reconnectDelay).
const retryStrategy = (attempt) =>
  Math.round(Math.min(workerData.reconnectMaxMs, 50 * 2 ** Math.max(0, attempt - 1)) * (1 - Math.random() / 2))
const redis = new Redis(workerData.url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectionName: workerData.name, retryStrategy })
redis.on('error', () => {})
redis.defineCommand('beat', { numberOfKeys: 1, lua: workerData.lua })
let first = true
const beat = () => {
  if (redis.status !== 'ready') return
  redis.beat(workerData.key, workerData.ttlMs, workerData.member).then(() => {
    if (first) parentPort.postMessage('beating')
    first = false
  }, () => {})
}
redis.on('ready', beat)
const timer = setInterval(beat, workerData.beatMs)
parentPort.on('message', (message) => {
  if (message !== 'stop') return
  clearInterval(timer)
  const leave = redis.status === 'ready' ? redis.zrem(workerData.key, workerData.member) : Promise.resolve()
  leave.catch(() => {}).finally(() => {
    redis.disconnect()
    parentPort.postMessage('stopped')
  })
})
`

let ioredisPath: string | undefined

/** The ioredis BullMQ uses (a thread cannot borrow this process's connections). */
function ioredis(): string {
  if (ioredisPath === undefined) {
    const require = createRequire(import.meta.url)
    ioredisPath = createRequire(require.resolve('bullmq')).resolve('ioredis')
  }
  return ioredisPath
}

/**
 * Start beating for one worker process of `workersKey`'s pool.
 *
 * @example
 * const heartbeat = startHeartbeat({ url, workersKey: poolKeys(prefix, queue).workers })
 * // … on drain: await heartbeat.stop()
 */
export function startHeartbeat(options: { url: string; workersKey: string; workerId?: string; name?: string }): Heartbeat {
  const workerId = options.workerId ?? newWorkerId()
  const thread = new Worker(THREAD_SOURCE, {
    eval: true,
    workerData: {
      ioredis: ioredis(),
      url: options.url,
      key: options.workersKey,
      member: workerId,
      ttlMs: HEARTBEAT.ttlMs,
      beatMs: HEARTBEAT.beatMs,
      lua: BEAT_LUA,
      reconnectMaxMs: RECONNECT_MAX_MS,
      name: options.name ?? 'switchyard-heartbeat',
    },
    // The thread needs none of the process's loaders (tsx) or flags.
    execArgv: [],
  })
  thread.unref()
  let stopping: Promise<void> | undefined
  const beating = new Promise<void>((resolve) => {
    const first = (message: unknown) => {
      if (message !== 'beating') return
      thread.off('message', first)
      resolve()
    }
    thread.on('message', first)
  })
  return {
    workerId,
    beating,
    stop() {
      stopping ??= new Promise<void>((resolve) => {
        const timer = setTimeout(() => void thread.terminate().then(() => resolve()), 2000)
        thread.on('message', (message) => {
          if (message !== 'stopped') return
          clearTimeout(timer)
          void thread.terminate().then(() => resolve())
        })
        thread.once('exit', () => {
          clearTimeout(timer)
          resolve()
        })
        thread.postMessage('stop')
      })
      return stopping
    },
  }
}
