// The event-loop watchdog. A graph that ignores its signal *and* blocks the event
// loop (a busy loop, a huge synchronous parse) cannot be stopped from the main thread:
// no timer fires. A worker thread watches a heartbeat the main thread writes into
// shared memory; when the loop has been silent for `graceMs` and a run is past its
// deadline + `graceMs`, the thread kills the whole process (SIGKILL). The supervisor
// replaces it; the broker retries or fails the runs it had (DEADLINE_EXCEEDED).
import { Worker } from 'node:worker_threads'

export interface Watchdog {
  /** Note a run's deadline (epoch ms); call the returned function when the run settles. */
  track(deadlineMs: number): () => void
  stop(): Promise<void>
}

// Plain JavaScript, evaluated in the thread: no loader, no imports of ours.
const THREAD_SOURCE = `
const { workerData } = require('node:worker_threads')
const { writeSync } = require('node:fs')
const shared = new Float64Array(workerData.buffer)
const grace = workerData.graceMs
setInterval(() => {
  const now = Date.now()
  const beat = shared[0]
  const deadline = shared[1]
  if (deadline > 0 && now > deadline + grace && now - beat > grace) {
    try {
      writeSync(2, 'switchyard worker: event loop blocked for ' + (now - beat) + ' ms past a run deadline; ' +
        'killing process ' + process.pid + ' (watchdog)\\n')
    } catch {}
    process.kill(process.pid, 'SIGKILL')
  }
}, workerData.checkMs)
`

/**
 * Start the watchdog thread for this process.
 *
 * @example
 * const watchdog = startWatchdog({ graceMs: 2000 })
 * const untrack = watchdog.track(deadline.getTime())
 * try { await run() } finally { untrack() }
 */
export function startWatchdog(options: { graceMs: number; beatMs?: number }): Watchdog {
  const beatMs = options.beatMs ?? 100
  const buffer = new SharedArrayBuffer(16)
  const shared = new Float64Array(buffer)
  shared[0] = Date.now()
  const deadlines = new Map<number, number>()
  let nextId = 0
  const publish = () => {
    let earliest = 0
    for (const d of deadlines.values()) if (earliest === 0 || d < earliest) earliest = d
    shared[1] = earliest
  }
  const beat = setInterval(() => (shared[0] = Date.now()), beatMs)
  beat.unref()
  const thread = new Worker(THREAD_SOURCE, {
    eval: true,
    workerData: { buffer, graceMs: options.graceMs, checkMs: Math.max(20, Math.min(beatMs, options.graceMs / 4)) },
    // The thread needs none of the process's loaders (tsx) or flags.
    execArgv: [],
  })
  thread.unref()
  return {
    track(deadlineMs) {
      const id = nextId++
      deadlines.set(id, deadlineMs)
      shared[0] = Date.now()
      publish()
      return () => {
        deadlines.delete(id)
        publish()
      }
    },
    async stop() {
      clearInterval(beat)
      await thread.terminate()
    },
  }
}
