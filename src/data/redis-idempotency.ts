// Idempotency keys on Redis: one atomic script claims a key or returns who holds it,
// so two gateways racing on the same Idempotency-Key agree on one run.
import type { RedisClient } from 'bullmq'

const COMMAND = 'switchyardClaimIdempotencyKey'

// KEYS[1] the key; ARGV[1] the value to store; ARGV[2] its lifetime in ms.
// Returns the value already stored, or nil after storing ours.
const CLAIM = `
local held = redis.call('GET', KEYS[1])
if held then return held end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return false
`

const defined = new WeakSet<object>()

/** Store `value` under `key` unless the key is held; resolve with the holder's value, or null when ours was stored. */
export async function claimKey(client: RedisClient, key: string, value: string, ttlMs: number): Promise<string | null> {
  if (!defined.has(client)) {
    client.defineCommand(COMMAND, { numberOfKeys: 1, lua: CLAIM })
    defined.add(client)
  }
  const held: unknown = await client.runCommand(COMMAND, [key, value, String(Math.ceil(ttlMs))])
  return typeof held === 'string' ? held : null
}
