// Compiles src/control of a checkout (this one, or another for --before) into a private
// folder inside this repo (so `ajv`, `yaml` resolve from node_modules exactly as from
// dist/), without racing anyone's `npm run build` on the shared dist/. Laid out as the
// package is: dist/ and spec/ side by side. `files`: tsc's output, one file per module;
// `built`: what that checkout's `npm run build` ships (its scripts/bundle-control.mjs
// where it has one, else tsc's files).
import { cpSync, existsSync, mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import ts from 'typescript'

const REPO = resolve(import.meta.dirname, '../..')

export interface BuiltControl {
  /** file:// URL of the compiled index.js. */
  readonly url: string
  readonly dir: string
  remove(): void
}

export async function buildControl(root = REPO, as: 'files' | 'built' = 'built'): Promise<BuiltControl> {
  const cache = join(REPO, 'node_modules', '.cache')
  mkdirSync(cache, { recursive: true })
  const outDir = mkdtempSync(join(cache, 'switchyard-control-'))
  const config = ts.getParsedCommandLineOfConfigFile(
    join(root, 'tsconfig.build.json'),
    {},
    { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined },
  )
  if (!config) throw new Error(`cannot read ${root}/tsconfig.build.json`)
  const options = {
    ...config.options,
    outDir: join(outDir, 'dist'),
    rootDir: join(root, 'src'),
    declaration: false,
    sourceMap: false,
    noEmit: false,
  }
  // Every file, as `npm run build` does: the compiler is required at run time, not imported.
  const roots = readdirSync(join(root, 'src/control'), { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.ts'))
    .map((name) => join(root, 'src/control', name))
  const program = ts.createProgram(roots, options)
  const result = program.emit()
  const errors = ts
    .getPreEmitDiagnostics(program)
    .concat(result.diagnostics)
    .filter((d) => d.category === ts.DiagnosticCategory.Error)
  if (errors.length)
    throw new Error(
      ts.formatDiagnostics(errors, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => root, getNewLine: () => '\n' }),
    )
  const bundler = join(root, 'scripts', 'bundle-control.mjs')
  if (as === 'built' && existsSync(bundler)) {
    const { bundleControl } = (await import(pathToFileURL(bundler).href)) as {
      bundleControl(options: { src: string; dist: string; sourcemap: boolean }): Promise<void> | void
    }
    // Awaited: this checkout's is async (an esbuild plugin), an older checkout's may not be.
    await bundleControl({ src: join(root, 'src'), dist: join(outDir, 'dist'), sourcemap: false })
  }
  // dist/ sits under the package's package.json, which says "type": "module".
  // Without one here, Node would first try every file as CommonJS (module syntax
  // detection, ~0.1 ms a module), a cost no user of the package pays.
  const { type } = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { type?: string }
  writeFileSync(join(outDir, 'package.json'), `${JSON.stringify({ type })}\n`)
  // The registry compiler reads spec/registry.schema.json from the package, as the package ships it.
  cpSync(join(root, 'spec'), join(outDir, 'spec'), { recursive: true })
  return {
    url: pathToFileURL(join(outDir, 'dist', 'control', 'index.js')).href,
    dir: outDir,
    remove: () => rmSync(outDir, { recursive: true, force: true }),
  }
}
