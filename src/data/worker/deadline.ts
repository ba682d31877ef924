// A run's deadline: its signal aborts at the deadline, and the run settles then with
// DEADLINE_EXCEEDED even if the graph ignores the signal (a graph that also blocks
// the event loop is the watchdog's business: worker-watchdog.ts).
import { SwitchyardError } from '../../control/index.js'

/**
 * Run `fn` with a signal that aborts at `deadlineMs` (epoch ms) or when `outer` aborts.
 * Rejects with DEADLINE_EXCEEDED (retryable) at the deadline; on `outer`, with its reason when that is
 * a SwitchyardError (a cancelled run), else CANCELLED (retryable: the worker is shutting down).
 */
export async function withDeadline<T>(
  deadlineMs: number,
  outer: AbortSignal,
  label: string,
  fn: (signal: AbortSignal) => Promise<T> | T,
): Promise<T> {
  const controller = new AbortController()
  const expire = () =>
    controller.abort(
      new SwitchyardError('DEADLINE_EXCEEDED', `${label} did not finish by its deadline ${new Date(deadlineMs).toISOString()}`, {
        retryable: true,
      }),
    )
  // A cancelled run's signal carries its own CANCELLED error; any other abort is the worker shutting down.
  const cancel = () =>
    controller.abort(
      outer.reason instanceof SwitchyardError
        ? outer.reason
        : new SwitchyardError('CANCELLED', `${label} was cancelled: the worker is shutting down`, { retryable: true }),
    )
  const timer = setTimeout(expire, Math.max(0, deadlineMs - Date.now()))
  outer.addEventListener('abort', cancel, { once: true })
  if (outer.aborted) cancel()
  let onAbort: (() => void) | undefined
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(controller.signal.reason)
    controller.signal.addEventListener('abort', onAbort, { once: true })
  })
  try {
    // A run cancelled (or past its deadline) before its graph started never starts it.
    if (controller.signal.aborted) throw controller.signal.reason
    return await Promise.race([Promise.resolve().then(() => fn(controller.signal)), aborted])
  } catch (error) {
    // A graph that stops on the signal throws its own AbortError: report why it stopped.
    if (controller.signal.aborted) throw controller.signal.reason
    throw error
  } finally {
    clearTimeout(timer)
    outer.removeEventListener('abort', cancel)
    if (onAbort) controller.signal.removeEventListener('abort', onAbort)
    aborted.catch(() => undefined)
  }
}
