// Each pool its own Redis ACL user, as an operator following SECURITY.md sets them up:
// for the tests where a pool's credentials are what another pool (or a graph) is after.
// aclUsers() makes exactly the users `switchyard acl` prints (the gateway's too).
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'

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

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url))

/** `switchyard acl`'s lines for a registry, and the URL (with HOST:PORT) of each user it names. */
export function aclLines(config: string): { lines: string[]; urls: Map<string, string> } {
  const script = `import { main } from ${JSON.stringify(MAIN)}; await main(['acl', '--config', ${JSON.stringify(config)}])`
  const made = spawnSync(process.execPath, ['--import', import.meta.resolve('tsx'), '--input-type=module', '-e', script], {
    encoding: 'utf8',
  })
  assert.equal(made.status, 0, made.stderr)
  const urls = new Map([...made.stderr.matchAll(/^# (\S+): (redis:\/\/\S+)$/gm)].map((m) => [m[1]!, m[2]!]))
  return { lines: made.stdout.trim().split('\n'), urls }
}

/**
 * Run `switchyard acl`'s lines for `config` on the server (through an admin connection on
 * `adminUrl`); resolve with a function giving each user's redis:// URL on loopback `port`
 * (`switchyard-gateway`, `switchyard-pool-<pool>`).
 */
export async function aclUsers(config: string, adminUrl: string, port: number): Promise<(user: string) => string> {
  const { lines, urls } = aclLines(config)
  const admin = new Queue('admin', { connection: { url: adminUrl } })
  admin.on('error', () => undefined)
  try {
    const client = (await admin.client) as unknown as { call(...args: string[]): Promise<unknown> }
    for (const line of lines) await client.call(...line.split(' '))
  } finally {
    await admin.close()
  }
  return (user) => {
    const url = urls.get(user)
    assert.ok(url, `switchyard acl printed no user ${user}`)
    return url.replace('HOST:PORT', `127.0.0.1:${port}`)
  }
}
