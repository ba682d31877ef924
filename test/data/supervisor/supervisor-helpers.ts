// Helpers of the supervisor tests: the real worker program, events, bounded polling.
import { fileURLToPath } from 'node:url'

import type { Registry } from '../../../src/control/index.js'
import type { SupervisorEvent } from '../../../src/data/supervisor/index.js'

export { eventually } from '../../helpers/eventually.js'

export const WORKER_PROGRAM = {
  module: fileURLToPath(new URL('../../../src/cli/worker.ts', import.meta.url)),
  execArgv: ['--import', import.meta.resolve('tsx')],
}

/** The registry with only the named pools (and their workflows). */
export function onlyPools(registry: Registry, names: readonly string[]): Registry {
  return {
    ...registry,
    pools: new Map([...registry.pools].filter(([name]) => names.includes(name))),
    workflows: new Map([...registry.workflows].filter(([, w]) => names.includes(w.pool))),
  }
}

export class Events {
  readonly all: SupervisorEvent[] = []
  readonly lines: string[] = []
  readonly push = (event: SupervisorEvent) => void this.all.push(event)
  readonly output = (pool: string, pid: number, line: string) => void this.lines.push(`[${pool} ${pid}] ${line}`)

  /** The workers' last lines, for a failure message. */
  tail(count = 20): string {
    return this.lines.slice(-count).join('\n')
  }

  of<T extends SupervisorEvent['type']>(type: T, pool: string): Extract<SupervisorEvent, { type: T }>[] {
    return this.all.filter((e): e is Extract<SupervisorEvent, { type: T }> => e.type === type && e.pool === pool)
  }
}
