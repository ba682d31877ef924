// Redis ACL rules that keep each pool inside its own queue's keys (DESIGN §4):
// a pool's credentials reach `<prefix>:switchyard.<pool>:*` and nothing else, so a
// leaked or buggy pool cannot read another pool's inputs or fake its results.
// The gateway/producer user writes every pool's queue.
import { queueName } from '../../../control/index.js'

/** Escape Redis glob characters so a name matches only itself. */
function literal(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&')
}

// What BullMQ's producer, worker and QueueEvents send: data commands (mostly inside
// Lua scripts, which Redis checks against the caller's key patterns), streams for
// events, INFO for the server version, CLIENT SETNAME to label its connections.
const COMMANDS = [
  '-@all',
  '+@read',
  '+@write',
  '+@keyspace',
  '+@string',
  '+@hash',
  '+@list',
  '+@set',
  '+@sortedset',
  '+@stream',
  '+@transaction',
  '+@connection',
  '-@dangerous',
  // +@write grants FUNCTION LOAD/DELETE/FLUSH/RESTORE and +@connection every CLIENT
  // subcommand (TRACKING shows other pools' key names, KILL and PAUSE stop them): none
  // is needed, so all go; the CLIENT subcommands BullMQ uses come back below (issue 12.11).
  '-function',
  '-fcall',
  '-fcall_ro',
  '-client',
  // Scripts, but not FUNCTION or SCRIPT FLUSH/KILL (another pool's scripts are shared state).
  '+eval',
  '+evalsha',
  '+eval_ro',
  '+evalsha_ro',
  '+script|load',
  '+script|exists',
  // SCAN and RANDOMKEY ignore key patterns: they would list other pools' run ids.
  '-scan',
  '-randomkey',
  '+info',
  // Our scripts read Redis's clock (heartbeats, claims: scripts.ts), never a machine's.
  '+time',
  '+client|setname',
  '+client|getname',
] as const

/**
 * ACL rules for one pool's worker user: its queue's keys and channels only.
 * @example ['ACL', 'SETUSER', 'pool-email', 'on', '>secret', ...poolAclRules('email')]
 */
export function poolAclRules(pool: string, prefix = 'bull'): string[] {
  const keys = `${literal(prefix)}:${literal(queueName(pool))}:*`
  return ['resetkeys', `~${keys}`, 'resetchannels', `&${keys}`, ...COMMANDS]
}

/**
 * ACL rules for the gateway/producer user: every pool's queue, plus CLIENT LIST
 * (worker counts for readiness). Add `+config|get` to let the broker check
 * maxmemory-policy itself; without it the broker warns that it could not.
 */
export function producerAclRules(prefix = 'bull'): string[] {
  const keys = `${literal(prefix)}:${literal(queueName(''))}*`
  return ['resetkeys', `~${keys}`, 'resetchannels', `&${keys}`, ...COMMANDS, '+client|list']
}
