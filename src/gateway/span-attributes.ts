// Start attributes of a run request's spans, known from the URL alone: the workflow,
// and when it exists its pool, the pool's project (whose store the spans belong in)
// and its sample rate (which the sampler reads: the one sampling decision of a run).
// Known before auth and body checks, so even a refused request lands in the right project.
import type { Attributes } from '@opentelemetry/api'
import { ATTR } from '../control/index.js'
import type { Registry } from '../control/index.js'

export function runSpanAttributes(registry: Registry, workflow: string): Attributes {
  const poolName = registry.workflows.get(workflow)?.pool
  const pool = poolName === undefined ? undefined : registry.pools.get(poolName)
  if (pool === undefined) return { [ATTR.workflow]: workflow }
  return {
    [ATTR.workflow]: workflow,
    [ATTR.pool]: pool.name,
    [ATTR.project]: pool.tracing.project,
    [ATTR.sampleRate]: pool.tracing.sampleRate,
    [ATTR.registry]: registry.digest,
  }
}
