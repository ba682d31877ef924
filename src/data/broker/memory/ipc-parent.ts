// The parent side of the IPC adapter: consumes a RunSource (the MemoryBroker's, in the
// `switchyard dev` process) on behalf of one child process, forwarding each delivery
// with child.send and settling it with the child's answer. When the child dies, the
// runs it held are settled as lost: the broker retries them on another process, or ends
// them WORKER_LOST (deadline passed) or WORKER_CRASHED (too many crashes). No run is lost
// with its process.
import type { ChildProcess } from 'node:child_process'
import { SwitchyardError } from '../../../control/index.js'
import { isChildMessage, type ParentMessage } from './ipc-protocol.js'
import { nodeChannel, type ChildChannel } from './ndjson-channel.js'
import type { Delivery, Outcome, RunSource } from '../run-source.js'

export interface ChildLink {
  /** Runs sent to the child and not answered yet. */
  inFlight(): number
  /** Resolves when the child has exited and its runs are settled. */
  readonly closed: Promise<void>
}

export interface ChildLinkOptions {
  /** The pool's queue depth, sent with each run (the child's /metrics shows it). */
  readonly queued?: () => number
  /** How messages reach the child. @default its Node IPC channel (a Python worker: ndjsonChannel on its fd 3) */
  readonly channel?: ChildChannel
}

/** The outcome of a run whose process died under it: the broker counts a crash and decides (retry, WORKER_LOST, WORKER_CRASHED). */
function lostRun(code: number | null, signal: NodeJS.Signals | null): Outcome {
  const how = signal ? `the worker process was killed by ${signal}` : `the worker process exited with code ${code}`
  return { ok: false, error: { code: 'WORKER_LOST', message: how, retryable: true }, lost: true }
}

/**
 * Serve `source` through a forked child running `ipcRunSource()`.
 *
 * @example
 * const child = fork(entry, ['worker', '--pool', 'email', '--ipc'], { env })
 * const link = linkChild(child, broker.source('email'))
 */
export function linkChild(child: ChildProcess, source: RunSource, options: ChildLinkOptions = {}): ChildLink {
  const pending = new Map<number, { resolve: (outcome: Outcome) => void }>()
  let nextId = 1
  let started = false
  let exited = false
  const channel = options.channel ?? nodeChannel(child)
  const send = (message: ParentMessage) => {
    if (channel.connected) channel.send(message)
  }
  const handler = (delivery: Delivery): Promise<Outcome> =>
    new Promise<Outcome>((resolve) => {
      const id = nextId++
      if (exited || !channel.connected) {
        resolve(lostRun(child.exitCode, child.signalCode))
        return
      }
      // A cancel reaches the child as a message; a hard close of the source is the child's exit, not a message.
      const onAbort = () => {
        const reason: unknown = delivery.signal.reason
        if (reason instanceof SwitchyardError && reason.code === 'CANCELLED' && !reason.retryable)
          send({ t: 'cancel', id, message: reason.message })
      }
      delivery.signal.addEventListener('abort', onAbort, { once: true })
      pending.set(id, {
        resolve: (outcome) => {
          delivery.signal.removeEventListener('abort', onAbort)
          resolve(outcome)
        },
      })
      send({ t: 'run', id, raw: delivery.raw, attempt: delivery.attempt, lost: delivery.lostAttempts, queued: options.queued?.() ?? 0 })
    })
  let lastDepth = -1
  const depthTimer = setInterval(() => {
    const queued = options.queued?.() ?? 0
    if (queued !== lastDepth && started) send({ t: 'depth', queued })
    lastDepth = queued
  }, 250)
  depthTimer.unref()
  channel.onMessage((message: unknown) => {
    if (!isChildMessage(message)) return
    if (message.t === 'ready' && !started) {
      started = true
      source.start(handler, { concurrency: message.concurrency })
    } else if (message.t === 'outcome') {
      const entry = pending.get(message.id)
      pending.delete(message.id)
      entry?.resolve(message.outcome)
    } else if (message.t === 'draining') {
      // drain() stops deliveries synchronously; the ack tells the child nothing more comes.
      const drained = source.drain()
      send({ t: 'drain-ack' })
      drained.catch(() => undefined)
    }
  })
  const closed = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = true
      clearInterval(depthTimer)
      for (const [id, entry] of pending) {
        pending.delete(id)
        entry.resolve(lostRun(code, signal))
      }
      source.close().then(resolve, resolve)
    })
  })
  return { inFlight: () => pending.size, closed }
}
