// Part of `npm run build`: dist/control/ as a few esbuild files instead of tsc's ~30. Every
// process that routes imports switchyard-ai/control at start, and Node's ES module loader
// pays per file (bench/control-plane prints both ways side by side). Code splitting keeps
// one copy of each module across the entry points other planes import (control/index.js,
// contract/, registry/, tooling/), so SwitchyardError and the cache-refusal counts
// exist once whichever door a plane takes. The compiler and compile-child stay entry points
// of their own: loadRegistry() requires them by name, beside its own code. Shared chunks
// live in registry/ because that code resolves those names (and spec/) from import.meta.url.
// Declarations (.d.ts) stay tsc's.
// esbuild puts each module in a chunk by the set of entry points that reach it, so the
// routing path alone (loadRegistry, route, suggest: reached by control/index.js and only
// some other doors) came out as three chunks beside the contract's: an import of
// switchyard-ai/control loaded 5 files. Every door but contract/ now also reaches the
// routing path (ROUTING_PATH, imported for its side effects, which it has none of), so
// that path is one chunk and the import loads 3 files: index.js, that chunk and the
// contract's, which stays a chunk of its own, free of Node built-ins (the typed client
// enters control through it, in browsers too). bench/control-plane prints the import cost.
import { readdirSync, readFileSync, rmSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

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

/** Modules on the routing path, made reachable from every entry point but the contract's. */
const ROUTING_PATH = ['registry/load-registry', 'route/index', 'suggest']
const STANDALONE = new Set(['index', 'contract/index'])

/**
 * @param {string} src
 * @returns {import('esbuild').Plugin}
 */
function routingPathEverywhere(src) {
  const control = join(src, 'control')
  const doors = new Map(CONTROL_ENTRIES.filter((name) => !STANDALONE.has(name)).map((name) => [join(control, `${name}.ts`), name]))
  return {
    name: 'routing-path-everywhere',
    setup(build) {
      build.onLoad({ filter: /\.ts$/ }, (args) => {
        if (!doors.has(args.path)) return undefined
        const imports = ROUTING_PATH.map((name) => {
          const specifier = relative(dirname(args.path), join(control, `${name}.js`))
          return `import ${JSON.stringify(specifier.startsWith('.') ? specifier : `./${specifier}`)}\n`
        })
        return { contents: `${readFileSync(args.path, 'utf8')}\n${imports.join('')}`, loader: 'ts' }
      })
    },
  }
}

/**
 * Bundles `<src>/control` into `<dist>/control`, replacing tsc's .js and .js.map there.
 * @param {{ src?: string, dist?: string, sourcemap?: boolean }} [options]
 */
export async function bundleControl({ src = join(REPO, 'src'), dist = join(REPO, 'dist'), sourcemap = true } = {}) {
  const outdir = join(dist, 'control')
  for (const entry of readdirSync(outdir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile() && /\.js(\.map)?$/.test(entry.name)) rmSync(join(entry.parentPath, entry.name))
  }
  await build({
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
    plugins: [routingPathEverywhere(src)],
  })
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await bundleControl()
