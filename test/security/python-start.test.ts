// How the supervisor starts Python, against a pool user who plays foul (attack review,
// 2026-12-06): the probe `start` runs as each Python pool's user gets that pool's base
// environment, never the supervisor's own (its producer Redis URL and tokens, readable in
// /proc/PID/environ by any process of that user while the probe runs); and no Python the
// platform starts (worker, probe, `switchyard worker`, `check`'s lint) imports from the
// folder it runs in, where a pool user who can write it would plant `switchyard_worker/`
// and have every Python pool, of any user, run its code. Real interpreters, real files.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { userInfo, tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'

import type { Pool } from '../../src/control/index.js'
import { probePython, pythonPath, pythonProgram } from '../../src/data/supervisor/index.js'
import { probeAccess, type PoolIdentity } from '../../src/data/supervisor/pool-user.js'

const folder = mkdtempSync(join(tmpdir(), 'sy-python-start-'))
after(() => rmSync(folder, { recursive: true, force: true }))

const me: PoolIdentity = { name: userInfo().username, uid: process.getuid!(), gid: process.getgid!(), home: join(folder, 'home') }

/** A folder holding a planted `switchyard_worker` package that leaves `marker` when imported. */
function plantedFolder(marker: string): string {
  const cwd = mkdtempSync(join(folder, 'cwd-'))
  mkdirSync(join(cwd, 'switchyard_worker'))
  const plant = `open(${JSON.stringify(marker)}, 'w').write('planted')\n`
  for (const file of ['__init__.py', '__main__.py', 'lint.py']) writeFileSync(join(cwd, 'switchyard_worker', file), plant)
  return cwd
}

const program = pythonProgram()
const pool = { name: 'p' } as Pool

void describe('Python started by the platform', { skip: python() }, () => {
  void it('never imports a switchyard_worker planted in the folder it runs in (worker and lint)', () => {
    for (const args of [program.args(pool), program.args(pool).slice(0, 1).concat(['-m', 'switchyard_worker.lint', '--help'])]) {
      const marker = join(folder, `marker-${Math.random().toString(36).slice(2)}`)
      spawnSync(program.command, args, {
        cwd: plantedFolder(marker),
        env: { PATH: process.env.PATH, PYTHONPATH: pythonPath(program) },
        encoding: 'utf8',
        timeout: 30_000,
      })
      assert.equal(existsSync(marker), false, `${program.command} ${args.join(' ')} imported the planted package`)
    }
  })

  void it("nor a stand-in for the standard library there, whatever the caller's PYTHONPATH holds (an empty entry is the working folder)", () => {
    for (const existing of [':', '/nowhere:', ':/nowhere', '/nowhere::/elsewhere']) {
      const marker = join(folder, `marker-${Math.random().toString(36).slice(2)}`)
      const cwd = mkdtempSync(join(folder, 'cwd-'))
      for (const module of ['ast', 'json', 'argparse', 'typing'])
        writeFileSync(join(cwd, `${module}.py`), `open(${JSON.stringify(marker)}, 'w').write('planted')\n`)
      const lint = spawnSync(program.command, [program.args(pool)[0]!, '-m', 'switchyard_worker.lint', '--help'], {
        cwd,
        env: { PATH: process.env.PATH, PYTHONPATH: pythonPath(program, existing) },
        encoding: 'utf8',
        timeout: 30_000,
      })
      assert.equal(existsSync(marker), false, `PYTHONPATH=${pythonPath(program, existing)}: a planted module was imported (${lint.stderr})`)
    }
  })

  void it('the probe does not import it either', () => {
    const marker = join(folder, 'marker-probe')
    const here = process.cwd()
    process.chdir(plantedFolder(marker))
    try {
      assert.equal(probePython(program), null)
    } finally {
      process.chdir(here)
    }
    assert.equal(existsSync(marker), false, 'the probe imported the planted package')
  })
})

void describe('the probe start runs as a Python pool user', () => {
  void it("gets the pool's base environment, never the supervisor's secrets", () => {
    const seen = join(folder, 'probe-env')
    const fake = join(folder, 'fake-python')
    writeFileSync(fake, `#!/bin/sh\nenv > ${JSON.stringify(seen)}\n`)
    chmodSync(fake, 0o755)
    const supervisorEnv = {
      PATH: process.env.PATH,
      LANG: 'C.UTF-8',
      SWITCHYARD_REDIS_URL: 'redis://default:producer-secret@127.0.0.1:6379',
      SWITCHYARD_TOKENS: 'admin-token-secret:admin',
      AWS_SECRET_ACCESS_KEY: 'operator-secret',
    }
    const problem = probeAccess(me, [], { program: { ...program, command: fake }, env: supervisorEnv })
    assert.equal(problem, null)
    const env = Object.fromEntries(
      readFileSync(seen, 'utf8')
        .trim()
        .split('\n')
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    )
    for (const secret of ['SWITCHYARD_REDIS_URL', 'SWITCHYARD_TOKENS', 'AWS_SECRET_ACCESS_KEY'])
      assert.equal(env[secret], undefined, `the probe saw ${secret}`)
    assert.equal(env.HOME, me.home)
    assert.equal(env.USER, me.name)
    assert.equal(env.LANG, 'C.UTF-8')
    assert.equal(env.PYTHONPATH, program.path)
  })
})

/** Skip reason when no interpreter here imports the worker (CI always has one). */
function python(): string | false {
  const why = probePython(program)
  return why === null ? false : process.env.CI ? false : why
}
