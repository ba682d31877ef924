// The broker's own Redis scripts, registered once per client through BullMQ's
// client (defineCommand/runCommand), so they run under the same connection and ACL.
import type { RedisClient } from 'bullmq'

import type { PoolKeys } from './keys.js'

interface Script {
  readonly name: string
  /** How many keys; -1: as many as each call passes (run()'s `keyCount`). */
  readonly keys: number
  readonly lua: string
}

// Every time our scripts read is Redis's own (TIME): gateways and workers on machines
// whose clocks disagree still agree on which heartbeat expired and which claim is stale.
const NOW = `
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
`

// Admission of one run, atomic: the idempotency claim, the pool's liveness and its
// capacity are checked, and the run's place and claim taken, in one step. The job is
// added by BullMQ's own add() right after; `admitting` holds the runs between the two,
// so concurrent submits count each other (exact maxQueued), and our claim on a key is
// honoured only once its job exists (a claim whose add never happened goes stale).
// The run's owner and its deadline (the `deadlines` set the expiry pass reads) are written
// in the same step, so no run is ever queued without either.
// A claim of the layout before owners (workflow-scoped) is honoured only when asked
// (the anonymous owner: one caller then and now), and only as a claim of that owner.
// KEYS: wait, paused, delayed, prioritized, admitting, workers, idempotency key (or admitting again),
//       owner key, legacy idempotency key (or admitting again), deadlines
// ARGV: runId, maxQueued, needWorker '1'|'0', job key prefix, fingerprint ('' = no key),
//       claim lifetime ms, pending window ms, admission lifetime ms, cancelled-record prefix,
//       owner, owner lifetime ms, honour the legacy claim '1'|'0', deadline (ms epoch)
// → {'ok'} | {'dup', runId} | {'conflict', runId} | {'pending', runId} | {'full', n} | {'unavailable'}
const ADMIT: Script = {
  name: 'switchyardAdmit',
  keys: 10,
  lua: `${NOW}
local runId = ARGV[1]
local keyed = ARGV[5] ~= ''
if keyed then
  local held = redis.call('GET', KEYS[7])
  if not held and ARGV[12] == '1' then held = redis.call('GET', KEYS[9]) end
  if held then
    local claim = cjson.decode(held)
    if redis.call('EXISTS', ARGV[4] .. claim.runId) == 1 or redis.call('EXISTS', ARGV[9] .. claim.runId) == 1 then
      if claim.fingerprint ~= ARGV[5] then return {'conflict', claim.runId} end
      return {'dup', claim.runId}
    end
    if now - tonumber(claim.at) < tonumber(ARGV[7]) then return {'pending', claim.runId} end
  end
end
if ARGV[3] == '1' and redis.call('ZCOUNT', KEYS[6], '(' .. now, '+inf') == 0 then return {'unavailable'} end
local admitting = redis.call('ZRANGE', KEYS[5], 0, -1, 'WITHSCORES')
local inflight = 0
for i = 1, #admitting, 2 do
  local id = admitting[i]
  if now - tonumber(admitting[i + 1]) > tonumber(ARGV[8]) or redis.call('EXISTS', ARGV[4] .. id) == 1 then
    redis.call('ZREM', KEYS[5], id)
  else
    inflight = inflight + 1
  end
end
local queued = redis.call('LLEN', KEYS[1]) + redis.call('LLEN', KEYS[2]) + redis.call('ZCARD', KEYS[3]) + redis.call('ZCARD', KEYS[4]) + inflight
if queued >= tonumber(ARGV[2]) then return {'full', tostring(queued)} end
redis.call('ZADD', KEYS[5], now, runId)
redis.call('SET', KEYS[8], ARGV[10], 'PX', ARGV[11])
redis.call('ZADD', KEYS[10], ARGV[13], runId)
if keyed then
  redis.call('SET', KEYS[7], cjson.encode({runId = runId, fingerprint = ARGV[5], at = now}), 'PX', ARGV[6])
end
return {'ok'}
`,
}

// After add() failed: drop the run's admission and our claim on its key, unless the add
// landed after all (its reply was lost): then the run is queued, and the answer says so.
// Sent after the add: on the connection the add went out on, so it runs after the add if the
// add ran at all; or, when that connection broke with the add in flight, on the next one
// (redis-broker.ts submit says when that order holds).
// KEYS: admitting, idempotency key (or admitting again), owner key, deadlines; ARGV: runId, job key, keyed '1'|'0' → 1 queued | 0 not
const RELEASE: Script = {
  name: 'switchyardRelease',
  keys: 4,
  lua: `
redis.call('ZREM', KEYS[1], ARGV[1])
if redis.call('EXISTS', ARGV[2]) == 1 then return 1 end
redis.call('DEL', KEYS[3])
redis.call('ZREM', KEYS[4], ARGV[1])
if ARGV[3] == '1' then
  local held = redis.call('GET', KEYS[2])
  if held and cjson.decode(held).runId == ARGV[1] then redis.call('DEL', KEYS[2]) end
end
return 0
`,
}

/**
 * A worker's heartbeat, for any language: `EVAL <this> 1 <workers key> <ttl ms> <worker id>`
 * every HEARTBEAT.beatMs. The score is the server time the heartbeat expires.
 */
export const BEAT_LUA = `${NOW}
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), ARGV[2])
return now
`

// Workers whose heartbeat expired, of one pool or several on one server (a reaper's list).
// KEYS: the pools' workers sets; ARGV: limit per pool → per key, its expired members
const EXPIRED: Script = {
  name: 'switchyardExpiredWorkersOf',
  keys: -1,
  lua: `${NOW}
local expired = {}
for i = 1, #KEYS do
  expired[i] = redis.call('ZRANGEBYSCORE', KEYS[i], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
end
return expired
`,
}

// Runs whose deadline has passed, of one pool or several on one server (an expiry pass's
// list, expiry.ts): one round trip a pass while nothing is due. The deadline is the
// envelope's (the gateway's clock), so `now` is the caller's too, not Redis's.
// KEYS: the pools' deadlines sets; ARGV: now (ms epoch), limit per pool → per key, its members due
const DUE: Script = {
  name: 'switchyardDueRunsOf',
  keys: -1,
  lua: `
local due = {}
for i = 1, #KEYS do
  -- A pool's user may replace its own set with another type: that pool has no due runs, the others still do.
  if redis.call('TYPE', KEYS[i]).ok == 'zset' then
    due[i] = redis.call('ZRANGEBYSCORE', KEYS[i], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
  else
    due[i] = {}
  end
end
return due
`,
}

// The claim on a dead worker, atomic: of the reapers (node workers of its pool, gateways,
// its supervisor) that saw it, exactly one removes it and goes on to its leases. A reaper
// that judged it by its heartbeat claims it only if that has still expired now: a worker
// that beat again between the list and the claim (a pause of its beating thread) keeps it.
// KEYS: workers; ARGV: worker id, '1' = only if expired | '0' = known dead (its supervisor saw it go) → 1 claimed | 0
const CLAIM: Script = {
  name: 'switchyardClaimWorker',
  keys: 1,
  lua: `${NOW}
local expires = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not expires then return 0 end
if ARGV[2] == '1' and tonumber(expires) > now then return 0 end
return redis.call('ZREM', KEYS[1], ARGV[1])
`,
}

// Take back the record a queued run's ender wrote (end-queued.ts) when its run was not ended
// after all: only while it is still that ender's (GET == ARGV: another's record, or one written
// since, stays) and the run's job is still there (a removal whose reply was lost did end the
// run: its record stays). Reads BullMQ's job key, writes only ours.
// KEYS: record key, job key; ARGV: the record as written → 1 taken back | 0 left
const TAKE_BACK: Script = {
  name: 'switchyardTakeBackRecord',
  keys: 2,
  lua: `
if redis.call('GET', KEYS[1]) == ARGV[1] and redis.call('EXISTS', KEYS[2]) == 1 then return redis.call('DEL', KEYS[1]) end
return 0
`,
}

// A run the expiry pass found with no job (expiry.ts): still being admitted (ADMIT → add), or
// admitted by a gateway that died before its add. An admission older than ADMIT's own bound
// (its admission lifetime, by Redis's clock as ADMIT reads it) is abandoned: dropped from the
// admissions and from the deadlines, so no pass reads it again. So is one stamped further in
// the future than that bound (ADMIT stamps Redis's now: such a score is a pool's own planting,
// or a clock gone wrong, and would otherwise be 'admitting' for ever). One whose job exists now
// is queued: the next pass ends it.
// KEYS: admitting, deadlines, job key; ARGV: runId, admission lifetime ms → 0 not admitting | 1 admitting | 2 abandoned, dropped
const ABANDONED: Script = {
  name: 'switchyardDropAbandonedAdmission',
  keys: 3,
  lua: `${NOW}
local at = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not at then return 0 end
if math.abs(now - tonumber(at)) <= tonumber(ARGV[2]) or redis.call('EXISTS', KEYS[3]) == 1 then return 1 end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return 2
`,
}

// Finish the ending of a queued run whose job is gone and whose final record is there (end-queued.ts
// finishEnded): an ender whose removal ran but whose reply was lost, or that died after the
// removal, left it out of the cancelled index. Idempotent: the index entry only if none
// (ZADD NX), and its row (end-queued.ts cancelledRow) only if none, then what every ending
// drops. Nothing while the job exists or no record does.
// KEYS: job key, record key, cancelled index, deadlines, unrun, cancelled rows; ARGV: runId, index score, row ('': none)
// → 1 indexed now | 0 already indexed | -1 not an ended run
const FINISH: Script = {
  name: 'switchyardFinishEnded',
  keys: 6,
  lua: `
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('EXISTS', KEYS[2]) == 0 then return -1 end
local added = redis.call('ZADD', KEYS[3], 'NX', ARGV[2], ARGV[1])
if ARGV[3] ~= '' then redis.call('HSETNX', KEYS[6], ARGV[1], ARGV[3]) end
redis.call('ZREM', KEYS[4], ARGV[1])
redis.call('HDEL', KEYS[5], ARGV[1])
return added
`,
}

// Workers alive now. KEYS: workers
const LIVE: Script = {
  name: 'switchyardLiveWorkers',
  keys: 1,
  lua: `${NOW}
return redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf')
`,
}

// The id of a stream's newest entry ('0-0' when empty): where a QueueEvents reader
// starts so that no event written after this moment can be missed.
const LAST_ID: Script = {
  name: 'switchyardLastStreamId',
  keys: 1,
  lua: `
local newest = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
if newest[1] then return newest[1][1] end
return '0-0'
`,
}

// What a list reads of one run: fields of its job hash, each only while it fits what is
// left of a byte budget (in the order asked), and its owner key when that is a string of
// at most `owner cap` bytes. A pool's user writes its own jobs (redis-broker.ts list): this
// bounds what a list reads per run whatever they hold, in one step, so a field cannot grow
// between its length and its read. A key of another type than its own is read as absent.
// KEYS: job hash, owner key   ARGV: budget, owner cap ('0': not read), field names…
// → {owner, field…}: each a value, its length (an integer: it did not fit), or nil (absent)
const CAPPED_READ: Script = {
  name: 'switchyardCappedRead',
  keys: 2,
  lua: `
local out = {false}
local cap = tonumber(ARGV[2])
if cap > 0 and redis.call('TYPE', KEYS[2]).ok == 'string' then
  local n = redis.call('STRLEN', KEYS[2])
  if n > cap then out[1] = n else out[1] = redis.call('GET', KEYS[2]) end
end
local hash = redis.call('TYPE', KEYS[1]).ok == 'hash'
local left = tonumber(ARGV[1])
for i = 3, #ARGV do
  out[i - 1] = false
  if hash then
    local n = redis.call('HSTRLEN', KEYS[1], ARGV[i])
    if n > left then
      out[i - 1] = n
    else
      out[i - 1] = redis.call('HGET', KEYS[1], ARGV[i])
      left = left - n
    end
  end
end
return out
`,
}

// What a list reads of the window of runs ended while queued (redis-broker.ts listCancelled):
// per id, its row (end-queued.ts cancelledRow) when that is at most `row cap` bytes and one
// (a JSON object with a string workflow and status and a numeric createdAt); else, when its
// record is at most `record cap` bytes and holds those fields, a row made of them here (a run
// ended before rows were kept, or whose ending FINISH finished before it wrote rows). The
// pool's user writes both keys: what is sent per id is at most `row cap` bytes, whatever
// they hold, and no more than one record is decoded per id, and no more than `decode budget`
// bytes of records in all: a script holds Redis for every pool while it runs, so a window of
// 1,000 planted 64 KiB records without rows must not make it decode 64 MB (past the budget
// such an id is nil, not listed; real runs have rows since rows were kept). A key of another
// type than its own is read as absent. The record keys are `record prefix` .. id (as ADMIT's).
// KEYS: rows hash   ARGV: row cap, record cap, record prefix, decode budget, ids…   → per id: a row, or nil
const CANCELLED_ROWS: Script = {
  name: 'switchyardCancelledRows',
  keys: 1,
  lua: `
local function row(text)
  local ok, t = pcall(cjson.decode, text)
  if ok and type(t) == 'table' and type(t.workflow) == 'string' and type(t.status) == 'string' and type(t.createdAt) == 'number' then return t end
  return nil
end
local hash = redis.call('TYPE', KEYS[1]).ok == 'hash'
local rowCap, recordCap, budget = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[4])
local out = {}
for i = 5, #ARGV do
  local id = ARGV[i]
  local found = false
  if hash and redis.call('HSTRLEN', KEYS[1], id) <= rowCap then
    local text = redis.call('HGET', KEYS[1], id)
    if text and row(text) then found = text end
  end
  local key = ARGV[3] .. id
  local size = (not found and redis.call('TYPE', key).ok == 'string') and redis.call('STRLEN', key) or nil
  if size and size <= recordCap and size <= budget then
    budget = budget - size
    local t = row(redis.call('GET', key))
    if t then
      local made = cjson.encode({workflow = t.workflow, status = t.status, createdAt = t.createdAt})
      if #made <= rowCap then found = made end
    end
  end
  out[i - 4] = found
end
return out
`,
}

// One string key, when it is at most `cap` bytes. KEYS: the key; ARGV: cap
// → its value, its length (an integer: it did not fit), or nil (absent, or another type)
const CAPPED_GET: Script = {
  name: 'switchyardCappedGet',
  keys: 1,
  lua: `
if redis.call('TYPE', KEYS[1]).ok ~= 'string' then return false end
local n = redis.call('STRLEN', KEYS[1])
if n > tonumber(ARGV[1]) then return n end
return redis.call('GET', KEYS[1])
`,
}

const defined = new WeakMap<object, Set<string>>()

async function run(client: RedisClient, script: Script, args: string[], keyCount = script.keys): Promise<unknown> {
  // A script of a variable number of keys is defined once per count (a broker has one count per server).
  const name = script.keys < 0 ? `${script.name}${keyCount}` : script.name
  let names = defined.get(client)
  if (!names) defined.set(client, (names = new Set()))
  if (!names.has(name)) {
    client.defineCommand(name, { numberOfKeys: keyCount, lua: script.lua })
    names.add(name)
  }
  return client.runCommand(name, args)
}

export type Admission =
  | { readonly kind: 'ok' }
  | { readonly kind: 'dup' | 'conflict' | 'pending'; readonly runId: string }
  | { readonly kind: 'full'; readonly queued: number }
  | { readonly kind: 'unavailable' }

export interface AdmitRequest {
  readonly keys: PoolKeys
  readonly runId: string
  readonly maxQueued: number
  readonly needWorker: boolean
  /**
   * The scoped idempotency key, the run's fingerprint, and the key's claim in the layout
   * before owners when it is to be honoured too; or null.
   */
  readonly idempotency: { readonly key: string; readonly fingerprint: string; readonly legacy: string | null } | null
  readonly owner: string
  readonly ownerTtlMs: number
  readonly claimTtlMs: number
  readonly pendingMs: number
  readonly admitTtlMs: number
  /** The run's deadline, ms epoch (the envelope's). */
  readonly deadlineMs: number
}

/** Admit a run (see ADMIT). */
export async function admit(client: RedisClient, request: AdmitRequest): Promise<Admission> {
  const { keys, idempotency } = request
  const reply = (await run(client, ADMIT, [
    keys.wait,
    keys.paused,
    keys.delayed,
    keys.prioritized,
    keys.admitting,
    keys.workers,
    idempotency?.key ?? keys.admitting,
    keys.owner(request.runId),
    idempotency?.legacy ?? keys.admitting,
    keys.deadlines,
    request.runId,
    String(request.maxQueued),
    request.needWorker ? '1' : '0',
    keys.base,
    idempotency?.fingerprint ?? '',
    String(Math.ceil(request.claimTtlMs)),
    String(Math.ceil(request.pendingMs)),
    String(Math.ceil(request.admitTtlMs)),
    keys.cancelled(''),
    request.owner,
    String(Math.ceil(request.ownerTtlMs)),
    idempotency?.legacy ? '1' : '0',
    String(Math.floor(request.deadlineMs)),
  ])) as unknown[]
  const [kind, value] = reply.map(String)
  switch (kind) {
    case 'ok':
    case 'unavailable':
      return { kind }
    case 'full':
      return { kind, queued: Number(value) }
    case 'dup':
    case 'conflict':
    case 'pending':
      return { kind, runId: value ?? '' }
    default:
      throw new Error(`unexpected admission reply ${JSON.stringify(reply)}`)
  }
}

/** Undo an admission whose add() failed; true when the add landed after all (the run is queued). */
export async function release(client: RedisClient, keys: PoolKeys, runId: string, idempotencyKey: string | null): Promise<boolean> {
  const reply = await run(client, RELEASE, [
    keys.admitting,
    idempotencyKey ?? keys.admitting,
    keys.owner(runId),
    keys.deadlines,
    runId,
    keys.job(runId),
    idempotencyKey === null ? '0' : '1',
  ])
  return Number(reply) === 1
}

/** Workers whose heartbeat has expired, at most `limit` per pool; one round trip for every pool of `workersKeys` (one server). */
export async function expiredWorkers(client: RedisClient, workersKeys: readonly string[], limit: number): Promise<string[][]> {
  if (workersKeys.length === 0) return []
  const reply = await run(client, EXPIRED, [...workersKeys, String(limit)], workersKeys.length)
  return workersKeys.map((_, i) => {
    const members = Array.isArray(reply) ? (reply[i] as unknown) : null
    return Array.isArray(members) ? members.map(String) : []
  })
}

/** Runs past their deadline (see DUE), at most `limit` per pool; one round trip for every pool of `deadlinesKeys` (one server). */
export async function dueRuns(client: RedisClient, deadlinesKeys: readonly string[], now: number, limit: number): Promise<string[][]> {
  if (deadlinesKeys.length === 0) return []
  const reply = await run(client, DUE, [...deadlinesKeys, String(Math.floor(now)), String(limit)], deadlinesKeys.length)
  return deadlinesKeys.map((_, i) => {
    const members = Array.isArray(reply) ? (reply[i] as unknown) : null
    return Array.isArray(members) ? members.map(String) : []
  })
}

/** Claim a dead worker (see CLAIM); true for exactly one caller. */
export async function claimWorker(client: RedisClient, keys: PoolKeys, worker: string, onlyIfExpired: boolean): Promise<boolean> {
  return Number(await run(client, CLAIM, [keys.workers, worker, onlyIfExpired ? '1' : '0'])) === 1
}

/** Worker processes of the pool whose heartbeat is current. */
export async function liveWorkers(client: RedisClient, keys: PoolKeys): Promise<number> {
  return Number(await run(client, LIVE, [keys.workers]))
}

/** The newest entry id of a stream, or '0-0'. */
export async function lastStreamId(client: RedisClient, stream: string): Promise<string> {
  const id = await run(client, LAST_ID, [stream])
  return typeof id === 'string' ? id : '0-0'
}

/** Take back `record`, written for `runId` by its ender, if it is still that and the job is still there (see TAKE_BACK). */
export async function takeBackRecord(client: RedisClient, keys: PoolKeys, runId: string, record: string): Promise<boolean> {
  return Number(await run(client, TAKE_BACK, [keys.cancelled(runId), keys.job(runId), record])) === 1
}

/** Whether a run without a job is being admitted, or its admission was abandoned and is now dropped (see ABANDONED). */
export async function admissionOf(
  client: RedisClient,
  keys: PoolKeys,
  runId: string,
  lifetimeMs: number,
): Promise<'none' | 'admitting' | 'dropped'> {
  const reply = Number(
    await run(client, ABANDONED, [keys.admitting, keys.deadlines, keys.job(runId), runId, String(Math.ceil(lifetimeMs))]),
  )
  return reply === 2 ? 'dropped' : reply === 1 ? 'admitting' : 'none'
}

/** Finish the ending of `runId`, its job gone and its record there (see FINISH): 'indexed' when this call put it in the index. */
export async function finishEnded(
  client: RedisClient,
  keys: PoolKeys,
  runId: string,
  score: number,
  row: string | null,
): Promise<'indexed' | 'already' | 'not-ended'> {
  const reply = Number(
    await run(client, FINISH, [
      keys.job(runId),
      keys.cancelled(runId),
      keys.cancelledIndex,
      keys.deadlines,
      keys.unrun,
      keys.cancelledRows,
      runId,
      String(Math.floor(score)),
      row ?? '',
    ]),
  )
  return reply === 1 ? 'indexed' : reply === 0 ? 'already' : 'not-ended'
}

/** A value CAPPED_READ answers: the text, its length in bytes when it was too large to read, or null when absent. */
export type Capped = string | number | null

/**
 * One run's job fields (each while it fits `budget` bytes, in order) and its owner (when at
 * most `ownerCap` bytes; 0: not read), one round trip (see CAPPED_READ).
 */
export async function cappedRead(
  client: RedisClient,
  keys: { readonly job: string; readonly owner: string },
  budget: number,
  ownerCap: number,
  fields: readonly string[],
): Promise<{ owner: Capped; fields: Capped[] }> {
  const reply = await run(client, CAPPED_READ, [keys.job, keys.owner, String(budget), String(ownerCap), ...fields])
  const at = (i: number): Capped => {
    const value = Array.isArray(reply) ? (reply[i] as unknown) : null
    return typeof value === 'string' || typeof value === 'number' ? value : null
  }
  return { owner: at(0), fields: fields.map((_, i) => at(i + 1)) }
}

/**
 * The rows of the runs `ids` ended while queued, of one pool, one round trip (see
 * CANCELLED_ROWS): each its row as stored, or one made from its record, or null.
 */
export async function cancelledRows(
  client: RedisClient,
  keys: PoolKeys,
  ids: readonly string[],
  rowCap: number,
  recordCap: number,
  decodeBudget: number,
): Promise<(string | null)[]> {
  const reply = await run(client, CANCELLED_ROWS, [
    keys.cancelledRows,
    String(rowCap),
    String(recordCap),
    keys.cancelled(''),
    String(decodeBudget),
    ...ids,
  ])
  return ids.map((_, i) => {
    const value = Array.isArray(reply) ? (reply[i] as unknown) : null
    return typeof value === 'string' ? value : null
  })
}

/** A string key when it is at most `cap` bytes, else its length, or null (see CAPPED_GET). */
export async function cappedGet(client: RedisClient, key: string, cap: number): Promise<Capped> {
  const value = (await run(client, CAPPED_GET, [key, String(cap)])) as unknown
  return typeof value === 'string' || typeof value === 'number' ? value : null
}
