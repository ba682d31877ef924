// The README's email.compose trace is what a user gets: `switchyard dev` on the sales
// registry, then `switchyard run email.compose --input @example.json --trace`, drawn as a
// tree whose spans, services and nesting are the README's (durations and ids aside).
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { spawnDev } from '../cli/dev-process.js'
import { eventually } from '../helpers/eventually.js'
import { SALES } from './workflow-kit.js'

const exec = promisify(execFile)
const REPO = fileURLToPath(new URL('../../', import.meta.url))

/** A drawn tree without what changes from run to run: durations, ids, tokens and cost. */
function shape(tree: string): string[] {
  return tree
    .trim()
    .split('\n')
    .map((line) =>
      line.startsWith('trace ')
        ? (/· \d+ spans · \d+ services ·/.exec(line)?.[0] ?? line)
        : line.replace(/\s+[\d.]+ (ms|s)\s+✓.*$/, '').trimEnd(),
    )
}

void test("switchyard run --trace draws the README's email.compose tree: 9 spans, a span per graph node, the model call under its node", async () => {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8')
  const shown = /The second prints the email, then the run's whole trace:\n\n```\n([\s\S]*?)```/.exec(readme)?.[1]
  assert.ok(shown, 'the README shows a trace')
  assert.deepEqual(shape(shown).slice(0, 1), ['· 9 spans · 3 services ·'])

  const dev = spawnDev(['--config', join(SALES, 'switchyard.yaml'), '--port', '0'], SALES, {
    SWITCHYARD_SIGNING_KEY: '',
    SWITCHYARD_TOKENS: '',
    OTEL_EXPORTER_OTLP_ENDPOINT: '',
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: '',
    OTEL_SDK_DISABLED: '',
    NO_COLOR: '1',
  })
  try {
    const url = await eventually('the gateway URL', () => /gateway (http:\/\/[\d.:]+)/.exec(dev.text)?.[1], 60_000)
    await eventually('the email pool ready', async () => ((await fetch(`${url}/readyz`)).status === 200 ? true : undefined), 60_000)
    const script = `import('./src/cli/main.ts').then((m) => m.main(${JSON.stringify([
      'run',
      'email.compose',
      '--input',
      `@${join(SALES, 'workflows/email-compose/example.json')}`,
      '--trace',
      '--url',
      url,
    ])}))`
    const { stdout } = await exec(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: REPO,
      env: { ...process.env, NO_COLOR: '1', SWITCHYARD_TOKEN: '' },
      timeout: 60_000,
    })
    const drawn = stdout.slice(stdout.indexOf('\ntrace ') + 1)
    assert.deepEqual(shape(drawn), shape(shown), drawn)
  } finally {
    await dev.stop()
  }
})
