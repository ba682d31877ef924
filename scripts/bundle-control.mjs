// Part of `npm run build`: dist/control/ as a few esbuild files instead of tsc's ~30. Every
// process that routes imports switchyard-ai/control at start, and Node's ES module loader
// pays per file (bench/control-plane prints both ways side by side). Code splitting keeps
// one copy of each module across the entry points other planes import (control/index.js,
// contract/, registry/, tooling/), so SwitchyardError and the cache-refusal counts
// exist once whichever door a plane takes. The compiler and compile-child stay entry points
// of their own: loadRegistry() requires them by name, beside its own code. Shared chunks
// live in registry/ because that code resolves those names (and spec/) from import.meta.url.
// Declarations (.d.ts) stay tsc's.
import { readdirSync, rmSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildSync } from 'esbuild'

const REPO = resolve(fileURLToPath(import.meta.url), '../..')

/** What other code imports (planes, the package export; nothing outside enters route/) and what loadRegistry() loads by name. */
export const CONTROL_ENTRIES = [
  'index',
  'contract/index',
  'registry/index',
  'tooling/index',
  'registry/registry-compiler',
  'registry/compile-child',
]

/**
 * Bundles `<src>/control` into `<dist>/control`, replacing tsc's .js and .js.map there.
 * @param {{ src?: string, dist?: string, sourcemap?: boolean }} [options]
 */
export function bundleControl({ src = join(REPO, 'src'), dist = join(REPO, 'dist'), sourcemap = true } = {}) {
  const outdir = join(dist, 'control')
  for (const entry of readdirSync(outdir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile() && /\.js(\.map)?$/.test(entry.name)) rmSync(join(entry.parentPath, entry.name))
  }
  buildSync({
    entryPoints: Object.fromEntries(CONTROL_ENTRIES.map((name) => [name, join(src, 'control', `${name}.ts`)])),
    outdir,
    bundle: true,
    splitting: true,
    chunkNames: 'registry/chunk-[hash]',
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // ajv, yaml, re2js, typescript: loaded from node_modules at run time, as before.
    packages: 'external',
    sourcemap,
    sourcesContent: false,
    logLevel: 'warning',
  })
}

if (process.argv[1] === fileURLToPath(import.meta.url)) bundleControl()
