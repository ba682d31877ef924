// What a valid registry value is (DESIGN §2.1): names (and the queue name a pool
// gets), keys, defaults, and the
// user-facing units ('2m', '512mb'). Shared by the compiler, the CLI and the
// spec test; kept in one small module because every routing process loads it.

/** Workflow names: lowercase words joined by '.' or '-'. */
export const WORKFLOW_NAME = /^[a-z][a-z0-9]*([.-][a-z0-9]+)*$/
/** Pool names end up in queue, service and project names: no dots. */
export const POOL_NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/

/**
 * The broker queue a pool's runs travel on. BullMQ reserves ':' inside its keys,
 * so the separator is a dot.
 *
 * @example queueName('email') // 'switchyard.email'
 */
export function queueName(pool: string): string {
  return `switchyard.${pool}`
}

/** The keys each map of the registry accepts (spec/registry.schema.json lists the same). */
export const REGISTRY_KEYS = {
  top: ['$schema', 'version', 'shared', 'pools', 'workflows'],
  pool: [
    'runtime',
    'concurrency',
    'processes',
    'timeout',
    'retries',
    'maxQueued',
    'memory',
    'cpu',
    'maxOutput',
    'env',
    'secrets',
    'redis',
    'user',
    'tracing',
  ],
  tracing: ['project', 'sampleRate', 'capture', 'redact'],
  workflow: ['pool', 'graph', 'prompt', 'input', 'output', 'description', 'timeout', 'retries'],
} as const

/** Pool defaults (DESIGN §2.1); tracing defaults to { project: <pool name>, sampleRate: 1, capture: 'full', redact: [] }. */
export const POOL_DEFAULTS = {
  runtime: 'node',
  concurrency: 4,
  processes: 1,
  timeoutMs: 60_000,
  retries: 2,
  maxQueued: 1000,
  maxOutputBytes: 1024 ** 2,
} as const

/**
 * The longest `timeout:`: 2^31 - 1 ms (about 24.8 days), the longest delay Node's timers
 * take; a longer one fires after 1 ms, so a run would time out at once.
 */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/
const MS_PER_UNIT = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const

/**
 * Parse a duration into whole milliseconds, or return null when it is not one.
 *
 * @example parseDuration('2m') // 120000
 * @example parseDuration('1.5s') // 1500
 */
export function parseDuration(text: string): number | null {
  const match = DURATION.exec(text.trim())
  if (!match) return null
  // Rounded first: '0.4ms' is no time at all, and a value past 2^53 is no whole number of ms.
  const ms = Math.round(Number(match[1]) * MS_PER_UNIT[match[2] as keyof typeof MS_PER_UNIT])
  return Number.isSafeInteger(ms) && ms > 0 ? ms : null
}

// Binary units: 1mb = 1024 × 1024 bytes, as Node's --max-old-space-size (MiB) expects.
// kb is for maxOutput; a heap cap in kb is below MIN_MEMORY_BYTES, refused by name.
const SIZE = /^(\d+(?:\.\d+)?)(kb|mb|gb)$/i
const BYTES_PER_UNIT = { kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 } as const

/** The smallest `memory:` a pool may set: below it a worker cannot even load its graph. */
export const MIN_MEMORY_BYTES = 64 * 1024 ** 2

/**
 * The range of `cpu:` (cores for all of a pool's processes together): a CFS quota is at
 * least 1 ms per 100 ms period, so 0.01 core is the least a cap can give.
 */
export const CPU_CORES = { min: 0.01, max: 1024 } as const

/**
 * The range of `maxOutput:`. An output travels whole through the broker and the
 * gateway's memory, once per waiting caller: past tens of megabytes a result belongs
 * in object storage, with its link in the output.
 */
export const OUTPUT_BYTES = { min: 1024, max: 64 * 1024 ** 2 } as const

/**
 * Parse a size (`64kb`, `256mb`, `1gb`) into whole bytes, or return null when it is not one.
 *
 * @example parseSize('512mb') // 536870912
 */
export function parseSize(text: string): number | null {
  const match = SIZE.exec(text.trim())
  if (!match) return null
  const unit = (match[2] ?? '').toLowerCase() as keyof typeof BYTES_PER_UNIT
  const bytes = Math.round(Number(match[1]) * BYTES_PER_UNIT[unit])
  return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : null
}
