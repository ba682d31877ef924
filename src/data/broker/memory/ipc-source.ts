// The child side of the IPC adapter: a RunSource over process.on('message'), for a
// worker process forked by `switchyard dev` (see ipc-parent.ts for the other side).
import { SwitchyardError } from '../../../control/index.js'
import { isParentMessage, type ChildMessage } from './ipc-protocol.js'
import type { Outcome, RunSource } from '../run-source.js'

export interface IpcRunSource extends RunSource {
  /** The pool's queue depth as last reported by the parent. */
  queued(): number
}

/**
 * A RunSource fed by the parent process. Throws when this process has no IPC channel.
 *
 * @example
 * const worker = createWorker({ pool, registry, source: ipcRunSource(), verifyKeys })
 */
export function ipcRunSource(): IpcRunSource {
  if (!process.send) throw new SwitchyardError('INTERNAL', 'this process has no IPC channel: was it started by `switchyard dev`?')
  let sending = 0
  let onSent: (() => void) | undefined
  const send = (message: ChildMessage) => {
    if (!process.connected) return
    sending += 1
    process.send?.(message, undefined, undefined, () => {
      sending -= 1
      if (sending === 0) onSent?.()
    })
  }
  const controllers = new Map<number, AbortController>()
  let queued = 0
  let inFlight = 0
  let onIdle: (() => void) | undefined
  let acked: (() => void) | undefined
  let listener: ((message: unknown) => void) | undefined

  // Disconnect only once the last outcome is written: closing the channel drops queued messages.
  const stop = async () => {
    if (listener) process.off('message', listener)
    listener = undefined
    if (sending > 0 && process.connected) await new Promise<void>((resolve) => (onSent = resolve))
    if (process.connected) process.disconnect()
  }

  return {
    queued: () => queued,
    start(handler, { concurrency }) {
      listener = (message: unknown) => {
        if (!isParentMessage(message)) return
        if (message.t === 'drain-ack') return acked?.()
        if (message.t === 'cancel') {
          controllers.get(message.id)?.abort(new SwitchyardError('CANCELLED', message.message, { retryable: false }))
          return
        }
        queued = message.queued
        if (message.t === 'depth') return
        inFlight += 1
        const controller = new AbortController()
        controllers.set(message.id, controller)
        handler({ raw: message.raw, attempt: message.attempt, lostAttempts: message.lost ?? 0, signal: controller.signal })
          .catch((error: unknown): Outcome => {
            const e = SwitchyardError.from(error)
            return { ok: false, error: { code: e.code, message: e.message, retryable: true } }
          })
          .then((outcome) => {
            controllers.delete(message.id)
            inFlight -= 1
            try {
              send({ t: 'outcome', id: message.id, outcome })
            } catch (error) {
              // Never leave the parent waiting: a result that cannot cross IPC is a failed run.
              const reason = `the run's outcome cannot be sent to the broker process: ${(error as Error).message}`
              send({ t: 'outcome', id: message.id, outcome: { ok: false, error: { code: 'INTERNAL', message: reason, retryable: false } } })
            }
            if (inFlight === 0) onIdle?.()
          })
          .catch(() => undefined)
      }
      process.on('message', listener)
      send({ t: 'ready', concurrency })
    },
    async drain() {
      // Runs the parent sent before it saw `draining` still arrive and are still run.
      const ack = new Promise<void>((resolve) => {
        acked = resolve
        process.once('disconnect', resolve)
      })
      send({ t: 'draining' })
      if (!process.connected) acked?.()
      await ack
      if (inFlight > 0) await new Promise<void>((resolve) => (onIdle = resolve))
      await stop()
    },
    async close() {
      for (const controller of controllers.values()) controller.abort()
      await stop()
    },
  }
}
