// The Redis keys of one pool's queue. BullMQ's own (the job hash, the wait list and
// the sets a queued job sits in) are read only by our scripts that must be atomic with
// them (admission, scripts.ts), under BullMQ's documented layout `<prefix>:<queue>:<name>`;
// ours are prefixed `sy-`. Every key starts with `<prefix>:<queue>:`, so a pool's Redis
// ACL user (`~<prefix>:<queue>:*`, acl.ts) reaches all of its pool's keys and no other's.

export interface PoolKeys {
  /** `<prefix>:<queue>:`: a job's hash is this plus its id. */
  readonly base: string
  job(runId: string): string
  // BullMQ's: where a queued run waits (list, list, sorted set, sorted set).
  readonly wait: string
  readonly paused: string
  readonly delayed: string
  readonly prioritized: string
  /** Sorted set: runs admitted and being added now (member run id, score admission time). */
  readonly admitting: string
  /** Sorted set: live worker processes (member worker id, score the server time its heartbeat expires). */
  readonly workers: string
  /** Hash of one worker process: run id → BullMQ lock token of each run it holds. */
  leases(workerId: string): string
  /** One idempotency claim, scoped to its owner (the caller) and workflow. */
  idempotency(owner: string, workflow: string, key: string): string
  /**
   * The claim of a key as brokers before owners wrote it (scoped to its workflow only):
   * honoured for the anonymous owner until it expires (redis-broker.ts), ignored otherwise.
   */
  legacyIdempotency(workflow: string, key: string): string
  /** Who submitted a run (its owner id). */
  owner(runId: string): string
  /** Sorted set: cancel requests (member run id, score request time), read by workers and reapers. */
  readonly cancels: string
  /** Sorted set: runs a worker finished (member run id, score its signed deadline), so a replay within the deadline is refused. */
  readonly finished: string
  /** Pub/sub channel: a run id to cancel now. */
  readonly cancelChannel: string
  /** The record of a run ended while queued, cancelled or expired (its job was removed). */
  cancelled(runId: string): string
  /** Sorted set: runs cancelled while queued (member run id, score when). */
  readonly cancelledIndex: string
  /**
   * Hash: run id → the few fields of its record a list filters and sorts on (cancelledRow),
   * beside the cancelled index and trimmed with it: a list reads records (at most 64 KiB
   * each) only for the rows it returns (RedisBroker.listCancelled).
   */
  readonly cancelledRows: string
  /**
   * Sorted set: queued runs by deadline (member run id, score the envelope's deadline, ms
   * epoch): written at admission, dropped by the worker that takes a run (node or Python), written back
   * when one goes back to the queue; the expiry pass (expiry.ts) ends the ones past due.
   */
  readonly deadlines: string
  /**
   * Hash: run id → how many of its takes by a worker did not run it (handed back while a
   * suspect held the process, or a suspect waiting to run alone). BullMQ counts a take as
   * a start; the crash count (crashesOf) subtracts these, so a crash is counted only
   * against runs that were running in the process that died.
   */
  readonly unrun: string
}

export function poolKeys(prefix: string, queue: string): PoolKeys {
  const base = `${prefix}:${queue}:`
  return {
    base,
    job: (runId) => base + runId,
    wait: `${base}wait`,
    paused: `${base}paused`,
    delayed: `${base}delayed`,
    prioritized: `${base}prioritized`,
    admitting: `${base}sy-admitting`,
    workers: `${base}sy-workers`,
    leases: (workerId) => `${base}sy-leases:${workerId}`,
    // Neither an owner id nor a workflow name has a ':' (ownerOf, registry rules), so
    // `<owner>:<workflow>:<key>` cannot collide across owners or workflows. A prefix of its
    // own: no claim of the layout before owners (`sy-idem:<workflow>:<key>`) is ever read as one.
    idempotency: (owner, workflow, key) => `${base}sy-key:${owner}:${workflow}:${key}`,
    legacyIdempotency: (workflow, key) => `${base}sy-idem:${workflow}:${key}`,
    owner: (runId) => `${base}sy-owner:${runId}`,
    cancels: `${base}sy-cancels`,
    finished: `${base}sy-finished`,
    cancelChannel: `${base}sy-cancel`,
    cancelled: (runId) => `${base}sy-cancelled:${runId}`,
    cancelledIndex: `${base}sy-cancelled`,
    cancelledRows: `${base}sy-cancelled-rows`,
    deadlines: `${base}sy-deadlines`,
    unrun: `${base}sy-unrun`,
  }
}
