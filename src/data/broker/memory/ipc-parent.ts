// The parent side of the IPC adapter: consumes a RunSource (the MemoryBroker's, in the
// `switchyard dev` process) on behalf of one child process, forwarding each delivery
// with child.send and settling it with the child's answer. When the child dies, the
// runs it held are settled as failed and retryable: the broker retries (attempt+1) or
// dead-letters them. No run is lost with its process.
import type { ChildProcess } from 'node:child_process'
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

function deadlineOf(raw: unknown): number {
  const deadline = (raw as { deadline?: unknown } | null)?.deadline
  return typeof deadline === 'string' ? Date.parse(deadline) : NaN
}

/** Why a run failed when its process died under it. */
function lostRun(raw: unknown, code: number | null, signal: NodeJS.Signals | null): Outcome {
  const how = signal ? `was killed by ${signal}` : `exited with code ${code}`
  if (Date.now() >= deadlineOf(raw)) {
    return {
      ok: false,
      error: { code: 'DEADLINE_EXCEEDED', message: `the worker process ${how} after the run's deadline passed`, retryable: true },
    }
  }
  return { ok: false, error: { code: 'WORKER_CRASHED', message: `the worker process ${how} during the run`, retryable: true } }
}

/**
 * Serve `source` through a forked child running `ipcRunSource()`.
 *
 * @example
 * const child = fork(entry, ['worker', '--pool', 'email', '--ipc'], { env })
 * const link = linkChild(child, broker.source('email'))
 */
export function linkChild(child: ChildProcess, source: RunSource, options: ChildLinkOptions = {}): ChildLink {
  const pending = new Map<number, { raw: unknown; resolve: (outcome: Outcome) => void }>()
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
      pending.set(id, { raw: delivery.raw, resolve })
      if (exited || !channel.connected) {
        pending.delete(id)
        resolve(lostRun(delivery.raw, child.exitCode, child.signalCode))
        return
      }
      send({ t: 'run', id, raw: delivery.raw, attempt: delivery.attempt, queued: options.queued?.() ?? 0 })
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
        entry.resolve(lostRun(entry.raw, code, signal))
      }
      source.close().then(resolve, resolve)
    })
  })
  return { inFlight: () => pending.size, closed }
}
