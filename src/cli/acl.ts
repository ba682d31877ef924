// `switchyard acl`: the Redis ACL users a deployment on Redis needs, as `ACL SETUSER`
// lines to pipe into redis-cli — one user per pool, reaching only its own queue's keys
// and none of the server's shared state (acl.ts), and one for the gateway. Passwords are
// fresh random ones; the redis:// URL each process should use goes to stderr, so stdout
// stays pure commands. Isolation against load (a pool filling memory or looping in
// EVAL) is a pool's own `redis:` URL, not an ACL.
import { randomBytes } from 'node:crypto'
import { loadRegistry } from '../control/index.js'
import { poolAclRules, producerAclRules } from '../data/broker/redis/index.js'
import { CONFIG_OPTION, configPath, parse, str } from './args.js'

const HELP = `usage: switchyard acl [--config FILE] [--prefix bull]

Prints one ACL SETUSER line per pool (user switchyard-pool-<pool>) and one for the
gateway (switchyard-gateway), with fresh random passwords:
  switchyard acl | redis-cli -h HOST -p PORT --user admin --pass …
The redis:// URL each user goes with is printed on stderr: give each pool its own
in its redis: entry (or its env file), the gateway's to the gateway.
  --prefix  BullMQ key prefix (default bull)`

export async function run(args: string[]): Promise<number> {
  const parsed = parse(args, { ...CONFIG_OPTION, prefix: { type: 'string' } })
  if (parsed.values.help) {
    console.log(HELP)
    return 0
  }
  const registry = loadRegistry(configPath(str(parsed, 'config')))
  const prefix = str(parsed, 'prefix') ?? 'bull'
  const password = () => randomBytes(24).toString('base64url')
  const users: [string, string[]][] = [
    ['switchyard-gateway', producerAclRules(prefix)],
    ...[...registry.pools.keys()].map((pool): [string, string[]] => [`switchyard-pool-${pool}`, poolAclRules(pool, prefix)]),
  ]
  for (const [user, rules] of users) {
    const secret = password()
    console.log(['ACL', 'SETUSER', user, 'reset', 'on', `>${secret}`, ...rules].join(' '))
    console.error(`# ${user}: redis://${user}:${secret}@HOST:PORT`)
  }
  return 0
}
