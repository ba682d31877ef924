// The event-loop watchdog. A graph that ignores its signal *and* blocks the event
// loop (a busy loop, a huge synchronous parse) cannot be stopped from the main thread:
// no timer fires. A worker thread watches a heartbeat the main thread writes into
// shared memory; when the loop has been silent for `graceMs` and a run is past its
// deadline + `graceMs`, the thread kills the whole process (SIGKILL). The supervisor
// replaces it; the broker retries or fails the runs it had (DEADLINE_EXCEEDED).
//
// Until then the blocked loop burns a core the gateway, Redis and every other pool
// share (a busy-looping pool tripled its neighbour's p99). So once the loop has been
// silent for `demoteAfterMs` while a run is in flight, the thread lowers the main thread's
// CPU priority to the lowest (nice 19; Linux nice is per thread, so the heartbeat and this
// thread keep theirs): the runaway yields to everyone else. Never with no run in flight:
// that is the worker's own start-up, which took 6–9 s on a loaded machine and, demoted to
// nice 19, kept a restarted worker from its crashed runs until their deadlines passed. When the loop runs again the priority
// is put back where the process may raise it again (root, CAP_SYS_NICE or RLIMIT_NICE);
// elsewhere the process stays lowered, since it has shown it can block.
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
const os = require('node:os')
const shared = new Float64Array(workerData.buffer)
const grace = workerData.graceMs
const demoteAfter = workerData.demoteAfterMs
let lowered = null
setInterval(() => {
  const now = Date.now()
  const beat = shared[0]
  const deadline = shared[1]
  // Only while a run is in flight: a loop blocked with none is the process's own start-up
  // (imports, compiling checks), and a start-up at nice 19 crawls on a busy machine.
  if (demoteAfter > 0 && lowered === null && deadline > 0 && now - beat > demoteAfter) {
    try {
      const before = os.getPriority(process.pid)
      if (before < 19) {
        os.setPriority(process.pid, 19)
        lowered = before
        writeSync(2, 'switchyard worker: event loop blocked for ' + (now - beat) + ' ms; process ' + process.pid +
          ' runs at the lowest CPU priority (nice 19) until it answers again (watchdog)\\n')
      }
    } catch {}
  } else if (lowered !== null && now - beat < demoteAfter / 2) {
    try { os.setPriority(process.pid, lowered) } catch {}
    lowered = null
  }
  if (deadline > 0 && now > deadline + grace && now - beat > grace) {
    try {
      writeSync(2, 'switchyard worker: event loop blocked for ' + (now - beat) + ' ms past a run deadline; ' +
        'killing process ' + process.pid + ' (watchdog)\\n')
    } catch {}
    process.kill(process.pid, 'SIGKILL')
  }
}, workerData.checkMs)
`

/** How long the event loop may stay silent before the process yields its CPU: far beyond any healthy tick. */
export const DEMOTE_AFTER_MS = 1000

/**
 * Start the watchdog thread for this process. `demoteAfterMs` (default DEMOTE_AFTER_MS;
 * null: never) lowers the process's CPU priority while its loop is blocked that long.
 *
 * @example
 * const watchdog = startWatchdog({ graceMs: 2000 })
 * const untrack = watchdog.track(deadline.getTime())
 * try { await run() } finally { untrack() }
 */
export function startWatchdog(options: { graceMs: number; beatMs?: number; demoteAfterMs?: number | null }): Watchdog {
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
    workerData: {
      buffer,
      graceMs: options.graceMs,
      demoteAfterMs: options.demoteAfterMs === null ? 0 : (options.demoteAfterMs ?? DEMOTE_AFTER_MS),
      checkMs: Math.max(20, Math.min(beatMs, options.graceMs / 4)),
    },
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
