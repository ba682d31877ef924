// switchyard-ai/client must run in browsers and edge runtimes and stay light: bundled
// for the browser it pulls no Node built-in and nothing of ours beyond control's
// shared vocabulary (src/control/contract, entered through its index). (esbuild comes with tsx, which runs these tests.)
import assert from 'node:assert/strict'
import { resolve } from 'node:path'
import { test } from 'node:test'
import { build } from 'esbuild'

void test('the client bundles for the browser, with only the OpenTelemetry API as a dependency, under 32 KB', async () => {
  const result = await build({
    entryPoints: [resolve(import.meta.dirname, '../../src/client/index.ts')],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    minify: true,
    write: false,
    metafile: true,
    logLevel: 'silent',
  })
  const inputs = Object.keys(result.metafile.inputs)
  const ours = inputs.filter((path) => !path.includes('node_modules/'))
  const packages = new Set(
    inputs.filter((path) => path.includes('node_modules/')).map((path) => /node_modules\/(@[^/]+\/[^/]+|[^/]+)/.exec(path)?.[1]),
  )
  assert.deepEqual([...packages], ['@opentelemetry/api'])
  const outside = ours.filter((path) => !path.includes('src/client/')).map((path) => path.replace(/^.*src\//, 'src/'))
  assert.ok(outside.includes('src/control/contract/index.ts'), `the client enters control through its contract: ${outside.join(', ')}`)
  assert.deepEqual(
    outside.filter((path) => !path.startsWith('src/control/contract/')),
    [],
  )
  const bytes = result.outputFiles[0]?.contents.length ?? Infinity
  assert.ok(bytes < 32 * 1024, `the browser bundle is ${bytes} bytes`)
})
