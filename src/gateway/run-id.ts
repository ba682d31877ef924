// Which run ids the gateway looks up. Every run id is one the gateway issued itself
// (run-workflow.ts: randomUUID(), lower-case hex); a pool's data names runs only by those.
// An id of another form names no run, but under Redis it names a key all the same: a
// job's key is its queue's prefix plus the id (keys.ts), so `wait`, `events`, `meta` or
// `sy-deadlines` are BullMQ's and our own keys of every pool, and asking for them only
// reads the wrong thing (a WRONGTYPE error, a 503). Such an id gets the answer an unknown
// id gets, without asking the broker.

/** An id safe to echo back in a problem and the run-id header (what envelopes allow). */
export const ECHOABLE_RUN_ID = /^[A-Za-z0-9_-]{1,128}$/

/** The form of the ids the gateway issues. */
const ISSUED_RUN_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/** Whether the gateway could have issued this id: only then is the broker asked for the run. */
export function isIssuedRunId(runId: string): boolean {
  return ISSUED_RUN_ID.test(runId)
}
