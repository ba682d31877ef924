// Redis ACL rules that keep each pool inside its own queue's keys (DESIGN §4):
// a pool's credentials reach `<prefix>:switchyard.<pool>:*` and nothing else, so a
// leaked or buggy pool cannot read another pool's inputs or fake its results.
// The gateway/producer user writes every pool's queue.
import { queueName } from '../../../control/index.js'
import { poolKeys } from './keys.js'

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
 * ACL rules for one pool's worker user: its queue's keys, and one channel: its pool's
 * cancel channel, to SUBSCRIBE to (a worker hears cancels of the runs it is running;
 * BullMQ itself uses no pub/sub). It may not PUBLISH anywhere, nor subscribe to another
 * pool's channel or to a pattern.
 * @example ['ACL', 'SETUSER', 'pool-email', 'on', '>secret', ...poolAclRules('email')]
 */
export function poolAclRules(pool: string, prefix = 'bull'): string[] {
  const keys = `${literal(prefix)}:${literal(queueName(pool))}:*`
  const cancels = literal(poolKeys(prefix, queueName(pool)).cancelChannel)
  return ['resetkeys', `~${keys}`, 'resetchannels', `&${cancels}`, ...COMMANDS, '+subscribe']
}

/**
 * ACL rules for the gateway/producer user: every pool's queue, PUBLISH on every pool's
 * cancel channel (cancelling a running run), plus CLIENT LIST (worker counts for
 * readiness). It is not granted CONFIG (CONFIG GET reads the server's passwords too), so
 * it says once that it could not check maxmemory-policy: check that by hand.
 */
export function producerAclRules(prefix = 'bull'): string[] {
  const keys = `${literal(prefix)}:${literal(queueName(''))}*`
  // `<prefix>:switchyard.*` followed by what a cancel channel's name has after its queue.
  const cancels = `${keys}${literal(poolKeys('p', 'q').cancelChannel.slice('p:q'.length))}`
  return ['resetkeys', `~${keys}`, 'resetchannels', `&${cancels}`, ...COMMANDS, '+client|list', '+publish']
}
