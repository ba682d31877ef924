// `switchyard dev` prints a first run to paste once the gateway is up: the printed
// curl command, run through a shell as printed, gets the workflow's output.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'

import { tryItLines } from '../../src/cli/dev-hints.js'
import { loadRegistry } from '../../src/control/index.js'
import { spawnDev } from './dev-process.js'
import { eventually } from '../data/supervisor/supervisor-helpers.js'

/** A registry with one pool and two workflows; only the second ships an example.json. */
function project(): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'switchyard-hints-')))
  for (const name of ['plain', 'hello']) mkdirSync(join(dir, 'workflows', name), { recursive: true })
  writeFileSync(join(dir, 'workflows/plain/graph.ts'), 'export function graph() {\n  return () => ({})\n}\n')
  writeFileSync(join(dir, 'workflows/hello/graph.ts'), 'export function graph() {\n  return (input: unknown) => ({ echo: input })\n}\n')
  writeFileSync(join(dir, 'workflows/hello/example.json'), '{ "name": "Ada" }\n')
  writeFileSync(
    join(dir, 'switchyard.yaml'),
    `version: 1
pools:
  work:
    timeout: 30s
workflows:
  plain.none:
    pool: work
    graph: workflows/plain/graph.ts#graph
    input: { type: object }
    description: No example beside it.
  hello.echo:
    pool: work
    graph: workflows/hello/graph.ts#graph
    input: { type: object }
    description: Echoes its input.
`,
  )
  return dir
}

void test('the hints name the first workflow with an example, paths relative to the cwd, the default URL implied', () => {
  const dir = project()
  try {
    const registry = loadRegistry(join(dir, 'switchyard.yaml'))
    assert.deepEqual(tryItLines({ registry, url: 'http://127.0.0.1:7070', auth: false, cwd: dir }), [
      '  try it:',
      '  npx switchyard run hello.echo --input @workflows/hello/example.json --trace',
      "  curl -s http://127.0.0.1:7070/v1/workflows/hello.echo/run -H 'content-type: application/json' -d @workflows/hello/example.json",
      '  console (runs, traces, pools, workflows): http://127.0.0.1:7070/',
    ])
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

void test('switchyard dev prints a curl command that, pasted into a shell, runs the example (auth on: $TOKEN)', async () => {
  const dir = project()
  const dev = spawnDev(['--config', 'switchyard.yaml', '--port', '0'], dir, { SWITCHYARD_SIGNING_KEY: '', SWITCHYARD_TOKENS: 'hint-token' })
  try {
    const curl = await eventually('the curl hint', () => /^ {2}(curl .*)$/m.exec(dev.text)?.[1], 30_000).catch((error: Error) => {
      throw new Error(`${error.message}\n${dev.text}`)
    })
    const port = /gateway http:\/\/127\.0\.0\.1:(\d+)/.exec(dev.text)?.[1]
    assert.ok(port, dev.text)
    assert.equal(
      curl,
      `curl -s http://127.0.0.1:${port}/v1/workflows/hello.echo/run -H 'content-type: application/json' -H "authorization: Bearer $TOKEN" -d @workflows/hello/example.json`,
    )
    assert.match(
      dev.text,
      new RegExp(
        `\n {2}npx switchyard run hello\\.echo --input @workflows/hello/example\\.json --url http://127\\.0\\.0\\.1:${port} --token "\\$TOKEN" --trace\n`,
      ),
    )
    assert.match(dev.text, /\n {2}try it \(with TOKEN set to one of SWITCHYARD_TOKENS\):\n/)
    assert.match(dev.text, new RegExp(`\n {2}console \\(runs, traces, pools, workflows\\): http://127\\.0\\.0\\.1:${port}/\n`))

    // As printed, plus the status code on a line of its own.
    const { stdout } = await new Promise<{ stdout: string }>((resolve, reject) =>
      execFile(
        'sh',
        ['-c', `${curl} -w '\\n%{http_code}'`],
        { cwd: dir, env: { ...process.env, TOKEN: 'hint-token' }, timeout: 60_000 },
        (error, stdout) => (error ? reject(new Error(`${error.message}\n${dev.text}`)) : resolve({ stdout })),
      ),
    )
    const [body, status] = stdout.split('\n')
    assert.equal(status, '200', `${stdout}\n${dev.text}`)
    assert.deepEqual(JSON.parse(body ?? ''), { echo: { name: 'Ada' } })
  } finally {
    const code = await dev.stop()
    rmSync(dir, { recursive: true, force: true })
    assert.equal(code, 0, dev.text)
  }
})
