// The pool worker: verifies each envelope, loads graphs lazily, runs them with a
// deadline, checks their output, and serves /healthz and /metrics. Fed by any RunSource.
export { createWorker, type PoolWorker } from './worker.js'
export { workerAllowedHosts } from './http.js'
