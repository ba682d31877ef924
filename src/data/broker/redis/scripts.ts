// The broker's own Redis scripts, registered once per client through BullMQ's
// client (defineCommand/runCommand), so they run under the same connection and ACL.
import type { RedisClient } from 'bullmq'

interface Script {
  readonly name: string
  readonly keys: number
  readonly lua: string
}

// Claim an idempotency key or return who holds it, atomically, so two gateways racing
// on one Idempotency-Key agree on one run.
// KEYS[1] the key; ARGV[1] the value to store; ARGV[2] its lifetime in ms.
const CLAIM: Script = {
  name: 'switchyardClaimIdempotencyKey',
  keys: 1,
  lua: `
local held = redis.call('GET', KEYS[1])
if held then return held end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return false
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

const defined = new WeakMap<object, Set<string>>()

async function run(client: RedisClient, script: Script, args: string[]): Promise<unknown> {
  let names = defined.get(client)
  if (!names) defined.set(client, (names = new Set()))
  if (!names.has(script.name)) {
    client.defineCommand(script.name, { numberOfKeys: script.keys, lua: script.lua })
    names.add(script.name)
  }
  return client.runCommand(script.name, args)
}

/** Store `value` under `key` unless the key is held; resolve with the holder's value, or null when ours was stored. */
export async function claimKey(client: RedisClient, key: string, value: string, ttlMs: number): Promise<string | null> {
  const held = await run(client, CLAIM, [key, value, String(Math.ceil(ttlMs))])
  return typeof held === 'string' ? held : null
}

/** The newest entry id of a stream, or '0-0'. */
export async function lastStreamId(client: RedisClient, stream: string): Promise<string> {
  const id = await run(client, LAST_ID, [stream])
  return typeof id === 'string' ? id : '0-0'
}
