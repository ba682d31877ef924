// Each pool its own Redis ACL user, as an operator following SECURITY.md sets them up:
// for the tests where a pool's credentials are what another pool (or a graph) is after.
import { randomBytes } from 'node:crypto'

import { Queue } from 'bullmq'

import { poolAclRules } from '../../src/data/broker/redis/index.js'

/**
 * Create `pool-<name>` with a fresh random password and the pool's ACL rules, through an admin
 * connection on `producerUrl`; resolve with each pool's redis:// URL on loopback `port`.
 */
export async function poolRedisUsers(producerUrl: string, port: number, pools: readonly string[]): Promise<Record<string, string>> {
  const poolUrls: Record<string, string> = {}
  const admin = new Queue('admin', { connection: { url: producerUrl } })
  admin.on('error', () => undefined)
  try {
    const client = (await admin.client) as unknown as { call(...args: string[]): Promise<unknown> }
    for (const pool of pools) {
      const password = `${pool}-${randomBytes(8).toString('hex')}`
      await client.call('ACL', 'SETUSER', `pool-${pool}`, 'on', `>${password}`, ...poolAclRules(pool))
      poolUrls[pool] = `redis://pool-${pool}:${password}@127.0.0.1:${port}`
    }
  } finally {
    await admin.close()
  }
  return poolUrls
}
