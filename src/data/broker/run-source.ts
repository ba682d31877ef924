// The worker's side of a broker: it hands envelopes to the worker's handler and
// settles each run by the outcome (ack, retry with backoff, or dead-letter).
// Implementations: the MemoryBroker's in-process and IPC sources, BullMQ's Worker.
import type { RunError } from './broker.js'

export type Outcome =
  | { readonly ok: true; readonly output: unknown }
  | {
      readonly ok: false
      readonly error: RunError
      /** The worker process died under the run (not the graph's failure): the broker counts a crash, not an attempt. */
      readonly lost?: true
      /** The envelope was refused before anything ran (it never counts as an execution). */
      readonly refused?: true
    }

export interface Delivery {
  /** The envelope exactly as it came off the broker: the worker verifies it. */
  readonly raw: unknown
  /**
   * The id the broker holds this run under (BullMQ's job id), when the broker has one of
   * its own: the worker refuses an envelope whose signed runId is another (a genuine
   * envelope re-queued under a new job id is a replay, issue 12.4).
   */
  readonly runId?: string
  /** The broker recorded this run as finished already: running it again would be a replay. */
  readonly finished?: boolean
  /**
   * The attempt being made now (1-based). The envelope's own `attempt` is the one it
   * was signed with at submission; retries happen inside the broker without re-signing.
   */
  readonly attempt: number
  /** Earlier attempts of this run whose worker died under them (crashed, killed, or stopped beating). */
  readonly lostAttempts: number
  /**
   * Aborts when the source is closed hard (not on drain), or when the run is cancelled:
   * then its reason is a SwitchyardError CANCELLED that is not retryable.
   */
  readonly signal: AbortSignal
}

export type RunHandler = (delivery: Delivery) => Promise<Outcome>

export interface RunSource {
  /** Begin delivering runs of one pool, at most `concurrency` at once. */
  start(handler: RunHandler, options: { concurrency: number }): void
  /**
   * Resolves once the broker counts this consumer as a live worker of its pool (on Redis:
   * its first heartbeat is in). Absent: at once.
   */
  visible?(): Promise<void>
  /** Take no new runs; resolve once in-flight runs have settled. */
  drain(): Promise<void>
  close(): Promise<void>
}
