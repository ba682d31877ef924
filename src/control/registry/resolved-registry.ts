// The resolved registry: the registry as this control plane resolved it (defaults
// applied, units converted, paths absolute, schemas inlined), as one versioned JSON
// document (spec/resolved-registry.schema.json). Workers in other languages read it
// instead of re-parsing switchyard.yaml with rules of their own: one set of rules.
import type * as Fs from 'node:fs'
import type { JsonSchema, Pool, Registry } from '../contract/index.js'
import { writeAtomically } from './cache-files.js'
import { builtin, sha256 } from './node-builtins.js'
import { cachePaths } from './registry-cache.js'

/** Bumped on any change a reader of the previous format would misread. */
export const RESOLVED_FORMAT = 3

export interface ResolvedWorkflow {
  readonly name: string
  readonly pool: string
  readonly graph: { readonly ref: string; readonly module: string; readonly export: string }
  readonly prompt: string | null
  readonly input: JsonSchema
  readonly output: JsonSchema | null
  readonly description: string
  readonly timeoutMs: number
  readonly retries: number
}

export interface ResolvedRegistry {
  readonly format: typeof RESOLVED_FORMAT
  readonly source: string
  readonly root: string
  readonly digest: string
  readonly pools: Readonly<Record<string, Pool>>
  readonly workflows: Readonly<Record<string, ResolvedWorkflow>>
}

/**
 * The resolved form of a loaded registry (pure).
 *
 * @example JSON.stringify(resolvedRegistry(loadRegistry('switchyard.yaml')))
 */
export function resolvedRegistry(registry: Registry): ResolvedRegistry {
  const pools: Record<string, Pool> = {}
  for (const pool of registry.pools.values()) {
    pools[pool.name] = {
      name: pool.name,
      runtime: pool.runtime,
      concurrency: pool.concurrency,
      processes: pool.processes,
      timeoutMs: pool.timeoutMs,
      retries: pool.retries,
      maxQueued: pool.maxQueued,
      memoryBytes: pool.memoryBytes,
      cpuCores: pool.cpuCores,
      maxOutputBytes: pool.maxOutputBytes,
      env: pool.env,
      secrets: [...pool.secrets],
      redis: pool.redis,
      user: pool.user,
      tracing: { ...pool.tracing, redact: [...pool.tracing.redact] },
    }
  }
  const workflows: Record<string, ResolvedWorkflow> = {}
  for (const w of registry.workflows.values()) {
    workflows[w.name] = {
      name: w.name,
      pool: w.pool,
      graph: { ref: w.graph.ref, module: w.graph.module, export: w.graph.export },
      prompt: w.prompt,
      input: w.input,
      output: w.output,
      description: w.description,
      timeoutMs: w.timeoutMs,
      retries: w.retries,
    }
  }
  return { format: RESOLVED_FORMAT, source: registry.source, root: registry.root, digest: registry.digest, pools, workflows }
}

/** Where the resolved form of the registry file `source` (absolute) is written. */
export function resolvedRegistryPath(source: string): string {
  return cachePaths(source).compiled.replace(/\.compiled\.json$/, '.resolved.json')
}

/**
 * Write the resolved form beside the registry (`.switchyard/<file>.resolved.json`),
 * atomically (never through a file planted in the folder: cache-files.ts); its path and
 * the `sha256:<hex>` of the bytes written. A worker reads it once, at start, and only when
 * it still hashes to that (SWITCHYARD_REGISTRY_SHA256): anyone who can write `.switchyard/`
 * could otherwise name the graph modules it loads.
 */
export function writeResolvedRegistry(registry: Registry): { readonly file: string; readonly sha256: string } {
  const file = resolvedRegistryPath(registry.source)
  builtin<typeof Fs>('node:fs').mkdirSync(cachePaths(registry.source).dir, { recursive: true })
  const text = `${JSON.stringify(resolvedRegistry(registry), null, 2)}\n`
  writeAtomically(file, text)
  return { file, sha256: sha256(text) }
}
