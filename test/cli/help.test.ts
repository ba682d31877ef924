// `switchyard --help` says which commands take --config, and each command agrees:
// the ones named list it in their own help, run/runs/trace refuse it.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { resolve } from 'node:path'
import { test } from 'node:test'

const MAIN = resolve(import.meta.dirname, '../../src/cli/main.ts')
const ENTRY = `const { main } = await import(${JSON.stringify(MAIN)}); await main(process.argv.slice(1))`

function cli(args: string[]): { code: number | null; out: string } {
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', ENTRY, '--', ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', SWITCHYARD_URL: 'http://127.0.0.1:9' },
    timeout: 30_000,
  })
  return { code: result.status, out: result.stdout + result.stderr }
}

void test('the top-level help names exactly the commands that take --config', () => {
  const help = cli(['--help'])
  assert.equal(help.code, 0)
  assert.match(help.out, /check, codegen, dev, start, gateway, worker and new read the registry: --config FILE \(or\n/)
  assert.match(help.out, /run, runs, cancel and trace ask a running\ngateway instead: --url URL \(or SWITCHYARD_URL\)\./)
  assert.doesNotMatch(help.out, /Every command takes --config/)
  for (const name of ['check', 'codegen', 'dev', 'start', 'gateway', 'worker', 'new']) {
    assert.match(cli([name, '--help']).out, /--config/, `${name} --help`)
  }
  for (const [name, ...args] of [['run', 'x'], ['runs'], ['trace', 'x'], ['cancel', 'x']] as const) {
    const refused = cli([name, ...args, '--config', 'switchyard.yaml'])
    assert.equal(refused.code, 1, `${name} --config`)
    assert.match(refused.out, /--config/, `${name} names the option it refuses`)
  }
})
