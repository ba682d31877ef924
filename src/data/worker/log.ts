// The worker's logger: one JSON object per line on stderr, with the pool (and, inside a
// run, the run id, workflow and attempt) on every line. Quiet below `level`. Each line
// passes `scrub` (the pool's secrets) as written, so no field can carry a secret out.
import type { Logger } from '../../graph/index.js'

type Level = 'debug' | 'info' | 'warn' | 'error'
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 }

export interface LoggerOptions {
  readonly fields: Record<string, unknown>
  /** @default SWITCHYARD_LOG_LEVEL or 'info' */
  readonly level?: Level
  /** @default a line on process.stderr */
  readonly write?: (line: string) => void
  /** Applied to each whole line before it is written (secretScrubber: JSON-escaped forms included). */
  readonly scrub?: (line: string) => string
}

function parseLevel(text: string | undefined): Level {
  return text === 'debug' || text === 'warn' || text === 'error' ? text : 'info'
}

/** A JSON-lines logger; `child` adds fields. */
export function createLogger(options: LoggerOptions): Logger & { child(fields: Record<string, unknown>): Logger } {
  const level = options.level ?? parseLevel(process.env.SWITCHYARD_LOG_LEVEL)
  const min = ORDER[level]
  const write = options.write ?? ((line: string) => process.stderr.write(line + '\n'))
  const scrub = options.scrub
  const emit = (level: Level, message: string, fields?: Record<string, unknown>) => {
    if (ORDER[level] < min) return
    const line = JSON.stringify({ time: new Date().toISOString(), level, msg: message, ...options.fields, ...fields })
    write(scrub ? scrub(line) : line)
  }
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    // The level and writer are resolved once, not re-read from the environment per child.
    child: (fields) => createLogger({ level, write, ...(scrub ? { scrub } : {}), fields: { ...options.fields, ...fields } }),
  }
}
