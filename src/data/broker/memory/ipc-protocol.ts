// Messages between the `switchyard dev` process (which owns the MemoryBroker) and a
// pool's child worker process, over Node's IPC channel (child.send / process.send).
import type { Outcome } from '../run-source.js'

export type ParentMessage =
  /** Run this envelope (attempt n; `lost` earlier attempts died with their process); `queued` is the pool's queue depth now. */
  | {
      readonly t: 'run'
      readonly id: number
      readonly raw: unknown
      readonly attempt: number
      readonly lost?: number
      readonly queued: number
    }
  /** A caller cancelled run `id`: abort its signal (CANCELLED, not retryable, with this message). */
  | { readonly t: 'cancel'; readonly id: number; readonly message: string }
  /** The parent stopped sending runs to this child (answer to `draining`). */
  | { readonly t: 'drain-ack' }
  /** The pool's queue depth changed (sent at most 4 times a second; a busy child gets no runs to read it from). */
  | { readonly t: 'depth'; readonly queued: number }

export type ChildMessage =
  /** The child is ready for runs, at most `concurrency` at once. */
  | { readonly t: 'ready'; readonly concurrency: number }
  | { readonly t: 'outcome'; readonly id: number; readonly outcome: Outcome }
  /** The child takes no new runs (SIGTERM): stop sending. */
  | { readonly t: 'draining' }

export function isParentMessage(value: unknown): value is ParentMessage {
  const t = (value as { t?: unknown } | null)?.t
  return t === 'run' || t === 'drain-ack' || t === 'depth' || t === 'cancel'
}

export function isChildMessage(value: unknown): value is ChildMessage {
  const t = (value as { t?: unknown } | null)?.t
  return t === 'ready' || t === 'outcome' || t === 'draining'
}
