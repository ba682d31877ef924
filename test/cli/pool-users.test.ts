// `user:` at the command line: `start --require-users` refuses, before it touches Redis,
// a registry whose pool cannot run as a user of its own, naming the pool; `dev` starts,
// says in one line that it ignores `user:` and what one user does not protect.
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, it } from 'node:test'

import { eventually } from '../helpers/eventually.js'

const CLI = (name: string) => fileURLToPath(new URL(`../../src/cli/${name}.ts`, import.meta.url))
const REGISTRY = `version: 1\npools:\n  a:\n    user: sy-no-such-user-here\n  b: {}\nworkflows: {}\n`

void describe('user: on the command line', () => {
  void it('start --require-users refuses a pool whose user cannot hold, naming it, before connecting to Redis', (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-cli-users-'))
    t.after(() => rmSync(dir, { recursive: true, force: true }))
    writeFileSync(join(dir, 'switchyard.yaml'), REGISTRY)
    // Port 1: nothing listens there; a start that got as far as Redis would say so instead.
    const args = ['--import', 'tsx', CLI('start'), '--config', join(dir, 'switchyard.yaml'), '--redis', 'redis://127.0.0.1:1', '--no-auth']
    const result = spawnSync(process.execPath, [...args, '--require-users'], { encoding: 'utf8', timeout: 60_000 })
    assert.equal(result.status, 1, result.stderr)
    assert.match(result.stderr, /--require-users: every pool must run as an OS user of its own/)
    assert.match(result.stderr, /WARNING: pool 'a' has user: sy-no-such-user-here, but/)
    assert.match(result.stderr, /WARNING: pool 'b' has no user:/)
    assert.doesNotMatch(result.stdout + result.stderr, /Redis redis:\/\//)
  })

  void it('dev ignores user: and says once what one user does not protect', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-cli-users-dev-'))
    t.after(() => rmSync(dir, { recursive: true, force: true }))
    writeFileSync(join(dir, 'switchyard.yaml'), REGISTRY)
    const child = spawn(process.execPath, ['--import', 'tsx', CLI('dev'), '--config', join(dir, 'switchyard.yaml'), '--port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, SWITCHYARD_TOKENS: '' },
    })
    let text = ''
    child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()))
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    try {
      await eventually('the gateway URL', () => /gateway http:\/\//.test(text) || undefined, 60_000)
      const lines = text.split('\n').filter((line) => line.includes('user:'))
      assert.equal(lines.length, 1, text)
      assert.match(
        lines[0] ?? '',
        /^switchyard dev: user: of pool 'a' is ignored: dev runs every pool as your own user, so a graph can read/,
      )
    } finally {
      child.kill('SIGINT')
      assert.equal(await exited, 0, text)
    }
  })
})
