// Issue 12.2: `switchyard start` (as root) runs each pool's processes as the OS user its
// `user:` names, so a hostile graph cannot reach another pool's files or the gateway's.
// Two throwaway system users are made for the test (useradd --system) and removed after
// it. On a real Redis, pool `a` (node, user A) runs a hostile graph that tries to read
// pool b's env file (its Redis password), the gateway's /proc/<pid>/environ and the
// signing key file, and scans /proc for any other user's environ it can read; pool `b`
// (Python where an interpreter user B can run is found — always in CI —, else node; user
// B) runs the same attack on pool a. Each reports what it got as its output: EACCES
// everywhere, its own uid and gid, no supplementary group, the user's HOME; the runs
// succeed end to end. Needs root to make users and to switch to them: skipped otherwise.
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { test } from 'node:test'

import { generateSigningKey, writeSigningKeyFile } from '../../src/data/index.js'
import { lookupUser, probePython, pythonProgram, type PoolIdentity } from '../../src/data/supervisor/index.js'
import { eventually } from '../helpers/eventually.js'
import { poolRedisUsers } from '../helpers/pool-acl.js'
import { redisSkip, startRedis } from '../helpers/redis.js'

const START = fileURLToPath(new URL('../../src/cli/start.ts', import.meta.url))

function rootSkip(): string | false {
  if (process.getuid?.() !== 0)
    return 'not root: switching a pool to a user of its own (and making throwaway users) needs root; CI runs as root'
  const closed = closedFolderOnTheWay(fileURLToPath(new URL('../..', import.meta.url)))
  if (closed) return `the checkout is out of other users' reach (${closed} is not world-searchable): a pool user could not load its worker`
  return redisSkip()
}

/** The first folder from / down to `path` that other users cannot enter, if any. */
function closedFolderOnTheWay(path: string): string | null {
  let folder = '/'
  for (const part of path.split('/').filter(Boolean)) {
    folder = join(folder, part)
    if ((statSync(folder).mode & 0o001) === 0) return folder
  }
  return null
}

/** Throwaway system users (and their groups), removed however the test ends. */
function makeUsers(count: number): { names: string[]; remove: () => void } {
  const tag = randomBytes(3).toString('hex')
  const names = Array.from({ length: count }, (_, i) => `sy-t${tag}-${String.fromCharCode(97 + i)}`)
  const made: string[] = []
  const remove = () => {
    for (const name of made) spawnSync('userdel', [name], { stdio: 'ignore' })
  }
  for (const name of names) {
    const added = spawnSync('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', name], {
      encoding: 'utf8',
    })
    if (added.status !== 0) {
      remove()
      throw new Error(`useradd ${name}: ${added.error?.message ?? added.stderr}`)
    }
    made.push(name)
  }
  return { names, remove }
}

/**
 * An interpreter user B can run the Python worker with: SWITCHYARD_PYTHON, python3 on
 * PATH, or Debian's /usr/bin/python3, probed as that user (a pyenv under /root, mode
 * 0700, is root's alone; so is a virtualenv made from it). None: pool b runs node, and
 * the test says so (.ci/run makes its virtualenv from Debian's python3 so CI runs both).
 */
function pythonFor(identity: PoolIdentity): string | null {
  const candidates = [process.env.SWITCHYARD_PYTHON?.trim(), 'python3', '/usr/bin/python3'].filter((c): c is string => !!c)
  for (const command of candidates) {
    if (probePython({ ...pythonProgram(), command }, process.env, identity) === null) return command
  }
  return null
}

const NODE_GRAPH = `export async function graph() {
  const fs = await import('node:fs')
  const attempt = (path) => {
    try {
      fs.readFileSync(path)
      return 'READ'
    } catch (error) {
      return error.code
    }
  }
  return (input) => {
    const uid = process.getuid()
    const readable = []
    for (const pid of fs.readdirSync('/proc').filter((name) => /^[0-9]+$/.test(name))) {
      try {
        if (fs.statSync('/proc/' + pid).uid === uid) continue
        fs.readFileSync('/proc/' + pid + '/environ')
        readable.push(pid)
      } catch {}
    }
    return {
      uid,
      gid: process.getgid(),
      groups: process.getgroups(),
      home: process.env.HOME,
      otherEnvFile: attempt(input.otherEnvFile),
      gatewayEnviron: attempt('/proc/' + input.gateway + '/environ'),
      supervisorEnviron: attempt('/proc/' + input.supervisor + '/environ'),
      signingKey: attempt(input.signingKey),
      readableEnvirons: readable,
    }
  }
}
`

const PY_GRAPH = `import errno
import os


def graph(setup):
    def attempt(path):
        try:
            with open(path, "rb") as f:
                f.read()
            return "READ"
        except OSError as error:
            return errno.errorcode.get(error.errno, str(error.errno))

    def run(input, run):
        uid = os.getuid()
        readable = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                if os.stat("/proc/" + pid).st_uid == uid:
                    continue
                with open("/proc/" + pid + "/environ", "rb") as f:
                    f.read()
                readable.append(pid)
            except OSError:
                pass
        return {
            "uid": uid,
            "gid": os.getgid(),
            "groups": os.getgroups(),
            "home": os.environ.get("HOME"),
            "otherEnvFile": attempt(input["otherEnvFile"]),
            "gatewayEnviron": attempt("/proc/" + str(input["gateway"]) + "/environ"),
            "supervisorEnviron": attempt("/proc/" + str(input["supervisor"]) + "/environ"),
            "signingKey": attempt(input["signingKey"]),
            "readableEnvirons": readable,
        }

    return run
`

const REGISTRY = (users: readonly string[], python: boolean) => `version: 1
pools:
  a:
    user: ${users[0]}
    env: env/a.env
    tracing: { project: users-a }
  b:
    user: ${users[1]}
    env: env/b.env
${python ? '    runtime: python\n' : ''}    tracing: { project: users-b }
workflows:
  a.attack:
    pool: a
    graph: attack.ts#graph
    input: { type: object }
    description: A hostile graph reaching for what is not its pool's.
  b.attack:
    pool: b
    graph: ${python ? 'attack.py#graph' : 'attack.ts#graph'}
    input: { type: object }
    description: The same from the other pool.
`

interface Report {
  uid: number
  gid: number
  groups: number[]
  home: string
  otherEnvFile: string
  gatewayEnviron: string
  supervisorEnviron: string
  signingKey: string
  readableEnvirons: string[]
}

void test(
  "a hostile graph in one pool's user reads neither another pool's env file nor the gateway's environ or signing key",
  { skip: rootSkip() },
  async (t) => {
    const users = makeUsers(2)
    t.after(users.remove)
    const [a, b] = users.names.map((name) => lookupUser(name))
    assert.ok(a && b, 'the users just made are found')
    const python = pythonFor(b)
    if (!python) t.diagnostic(`no interpreter user ${b.name} can run the Python worker with (a pyenv under /root?): pool b runs node here`)

    const producerPassword = `producer-${randomBytes(12).toString('hex')}`
    const redis = await startRedis(['--requirepass', producerPassword])
    t.after(() => redis.stop())
    const producerUrl = `redis://:${producerPassword}@127.0.0.1:${redis.port}`
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-pool-users-'))
    t.after(() => rmSync(dir, { recursive: true, force: true }))
    // The registry's folder is the users' to read (mkdtemp makes it 0700); the key and env files are not.
    chmodSync(dir, 0o755)
    const keyFile = join(dir, 'gateway.key')
    writeSigningKeyFile(keyFile, generateSigningKey())
    // Each pool's own Redis ACL user: its password, in its env file, is what the other pool is after.
    const poolUrls = await poolRedisUsers(producerUrl, redis.port, ['a', 'b'])
    mkdirSync(join(dir, 'env'))
    // Written as an operator's editor would: world-readable. start makes them 0600.
    const envFile = (pool: string) => join(dir, 'env', `${pool}.env`)
    for (const pool of ['a', 'b']) writeFileSync(envFile(pool), `SWITCHYARD_REDIS_URL=${poolUrls[pool]}\n`, { mode: 0o644 })
    writeFileSync(join(dir, 'attack.ts'), NODE_GRAPH)
    writeFileSync(join(dir, 'attack.py'), PY_GRAPH)
    writeFileSync(join(dir, 'switchyard.yaml'), REGISTRY(users.names, python !== null))

    const token = `operator-${randomBytes(12).toString('hex')}`
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', START, '--config', join(dir, 'switchyard.yaml'), '--port', '0', '--signing-key', keyFile, '--require-users'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        // The producer's URL in the env, not on the command line: /proc/<pid>/cmdline is world-readable.
        env: {
          ...process.env,
          SWITCHYARD_REDIS_URL: producerUrl,
          SWITCHYARD_TOKENS: token,
          ...(python ? { SWITCHYARD_PYTHON: python } : {}),
        },
      },
    )
    let text = ''
    child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()))
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    try {
      const url = await eventually('the gateway URL', () => /gateway (http:\/\/[\d.:]+)/.exec(text)?.[1], 60_000).catch((error: Error) => {
        throw new Error(`${error.message}\n${text}`)
      })
      await eventually('every pool ready', async () => ((await fetch(`${url}/readyz`)).status === 200 ? true : undefined), 90_000).catch(
        (error: Error) => {
          throw new Error(`${error.message}\n${text}`)
        },
      )
      for (const pool of ['a', 'b']) {
        assert.equal(statSync(envFile(pool)).mode & 0o777, 0o600, `${pool}.env`)
        assert.match(text, new RegExp(`pool '${pool}': env file \\S+ was readable by other users \\(mode 644\\): now 600`))
      }
      assert.doesNotMatch(text, /WARNING: pool/, 'every pool runs as a user of its own, and each can read what it needs')
      // start forks the gateway as a child of its own (the supervisor): both hold secrets.
      const gateway = Number(/gateway process (\d+)/.exec(text)?.[1])
      assert.ok(gateway > 0 && gateway !== child.pid, `the gateway's pid\n${text}`)
      const attack = async (workflow: string, otherPool: string): Promise<Report> => {
        const response = await fetch(`${url}/v1/workflows/${workflow}/run`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ otherEnvFile: envFile(otherPool), gateway, supervisor: child.pid, signingKey: keyFile }),
          signal: AbortSignal.timeout(60_000),
        })
        const body = (await response.json()) as Report
        assert.equal(response.status, 200, `${workflow}: ${JSON.stringify(body)}\n${text}`)
        return body
      }
      for (const [workflow, me, other] of [
        ['a.attack', a, 'b'],
        ['b.attack', b, 'a'],
      ] as const) {
        const report = await attack(workflow, other)
        assert.deepEqual(
          { uid: report.uid, gid: report.gid, home: report.home },
          { uid: me.uid, gid: me.gid, home: me.home },
          `${workflow} runs as ${me.name}`,
        )
        // libuv drops every supplementary group (root's included); only the primary one is left.
        assert.deepEqual(
          report.groups.filter((gid) => gid !== me.gid),
          [],
          `${workflow}: supplementary groups`,
        )
        assert.deepEqual(
          {
            otherEnvFile: report.otherEnvFile,
            gatewayEnviron: report.gatewayEnviron,
            supervisorEnviron: report.supervisorEnviron,
            signingKey: report.signingKey,
            readableEnvirons: report.readableEnvirons,
          },
          { otherEnvFile: 'EACCES', gatewayEnviron: 'EACCES', supervisorEnviron: 'EACCES', signingKey: 'EACCES', readableEnvirons: [] },
          `${workflow} reached beyond its pool`,
        )
      }
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT')
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
      await exited
      clearTimeout(timer)
    }
  },
)
