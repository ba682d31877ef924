// Pool users (`user:` under start): the user lookup against the machine's real user
// database, every case in which a pool's user cannot hold (each a WARNING naming the
// pool, or a refusal under --require-users), env files kept out of other pools' reach,
// and the env a pool user's process gets. The processes themselves, as real users, are
// test/security/pool-users.test.ts.
import assert from 'node:assert/strict'
import { chownSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'

import type { Pool, Registry } from '../../../src/control/index.js'
import {
  devUsersNote,
  lookupUser,
  preparePoolUsers,
  protectEnvFiles,
  resolvePoolUsers,
  type PoolIdentity,
} from '../../../src/data/supervisor/index.js'
import { workerEnv } from '../../../src/data/supervisor/worker-env.js'

const isRoot = process.getuid?.() === 0

function registryOf(users: Record<string, string | null>): Registry {
  const pools = new Map(Object.entries(users).map(([name, user]) => [name, { name, user } as unknown as Pool]))
  return { pools, workflows: new Map() } as unknown as Registry
}

const PEOPLE: Record<string, PoolIdentity> = {
  'sy-a': { name: 'sy-a', uid: 990, gid: 990, home: '/nonexistent' },
  'sy-b': { name: 'sy-b', uid: 991, gid: 991, home: '/nonexistent' },
  toor: { name: 'toor', uid: 0, gid: 0, home: '/root' },
}
const lookup = (user: string) => PEOPLE[user] ?? null

void describe('pool users', () => {
  void it("looks users up in the machine's user database, by name or by uid; an unknown one is null", () => {
    const root = lookupUser('root')
    assert.equal(root?.uid, 0)
    assert.equal(root?.gid, 0)
    assert.equal(lookupUser('0')?.name, 'root')
    assert.equal(lookupUser('sy-no-such-user-here'), null)
    assert.equal(lookupUser('4294967200'), null)
  })

  void it('gives each pool with a user of its own that identity, and says nothing when no pool names a user', () => {
    const { identities, warnings } = resolvePoolUsers(registryOf({ a: 'sy-a', b: 'sy-b' }), { uid: 0, lookup })
    assert.deepEqual([...identities.keys()], ['a', 'b'])
    assert.deepEqual(identities.get('b'), PEOPLE['sy-b'])
    assert.deepEqual(warnings, [])
    assert.deepEqual(resolvePoolUsers(registryOf({ a: null, b: null }), { uid: 1000, lookup }), { identities: new Map(), warnings: [] })
    // As root with no user: at all, every graph runs as root: before, start said nothing.
    const asRoot = resolvePoolUsers(registryOf({ a: null, b: null }), { uid: 0, lookup })
    assert.equal(asRoot.identities.size, 0)
    assert.equal(asRoot.warnings.length, 1)
    assert.match(
      asRoot.warnings[0] ?? '',
      /^WARNING: no pool has a user: and switchyard start runs as root, so every pool's processes run as root \(uid 0\)/,
    )
  })

  void it('warns per pool, by name, when a user cannot hold: not root, no such user, uid 0, shared, or none beside pools that have one', () => {
    const notRoot = resolvePoolUsers(registryOf({ a: 'sy-a', b: 'sy-b' }), { uid: 1000, lookup })
    assert.equal(notRoot.identities.size, 0)
    assert.equal(notRoot.warnings.length, 2)
    assert.match(notRoot.warnings[0] ?? '', /^WARNING: pool 'a' has user: sy-a, but switchyard start runs as uid 1000, not root/)
    assert.match(
      notRoot.warnings[1] ?? '',
      /^WARNING: pool 'b' .*can read every pool's env file, the signing key file and the gateway's \/proc/,
    )

    const { identities, warnings } = resolvePoolUsers(
      registryOf({ missing: 'sy-gone', rooty: 'toor', one: 'sy-a', two: 'sy-a', plain: null }),
      { uid: 0, lookup },
    )
    assert.deepEqual([...identities.keys()], ['one', 'two'])
    assert.equal(warnings.length, 4)
    assert.match(warnings[0] ?? '', /^WARNING: pool 'missing' has user: sy-gone, but no such user exists here .*useradd --system/)
    assert.match(warnings[1] ?? '', /^WARNING: pool 'rooty' has user: toor, which is uid 0 \(root\)/)
    assert.match(warnings[2] ?? '', /^WARNING: pool 'plain' has no user: its processes run as the supervisor's user \(uid 0\)/)
    assert.match(warnings[3] ?? '', /^WARNING: pools 'one', 'two' all run as user sy-a \(uid 990\)/)
  })

  void it('--require-users refuses whatever a warning would say, and a registry with no user at all', () => {
    if (isRoot) {
      assert.throws(
        () => preparePoolUsers(registryOf({ a: 'sy-no-such-user-here' }), { require: true }),
        /^Error: --require-users: every pool must run as an OS user of its own, not root, not shared:\nWARNING: pool 'a' has user: sy-no-such-user-here, but no such user exists/,
      )
    } else {
      assert.throws(
        () => preparePoolUsers(registryOf({ a: 'root' }), { require: true }),
        /WARNING: pool 'a' has user: root, but switchyard start runs as uid/,
      )
    }
    assert.throws(() => preparePoolUsers(registryOf({ a: null }), { require: true }), /--require-users: .*\nno pool has a user:/)
    // Without the flag the same registry starts, its warnings to be printed.
    const { lines } = preparePoolUsers(registryOf({ a: 'sy-no-such-user-here' }), { require: false })
    assert.equal(lines.length, 1)
    assert.match(lines[0] ?? '', /^WARNING: pool 'a'/)
  })

  void it("makes every pool's env file 0600 once pools run as users, and takes one back from another pool's user", (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-pool-user-'))
    t.after(() => rmSync(dir, { recursive: true, force: true }))
    const file = (name: string, mode: number) => {
      const path = join(dir, name)
      writeFileSync(path, 'SECRET_TOKEN=x\n', { mode })
      return path
    }
    const open = file('a.env', 0o644)
    const closed = file('b.env', 0o600)
    const plain = file('c.env', 0o640)
    const pools = [
      { name: 'a', env: open },
      { name: 'b', env: closed },
      { name: 'c', env: plain },
      { name: 'd', env: null },
    ]
    assert.deepEqual(protectEnvFiles(pools, new Map()), [], 'no pool runs as a user of its own: nothing to change')
    assert.equal(statSync(open).mode & 0o777, 0o644)

    const identities = new Map([['a', PEOPLE['sy-a'] as PoolIdentity]])
    const lines = protectEnvFiles(pools, identities)
    assert.deepEqual(lines, [
      `pool 'a': env file ${open} was readable by other users (mode 644): now 600`,
      `pool 'c': env file ${plain} was readable by other users (mode 640): now 600`,
    ])
    for (const path of [open, closed, plain]) assert.equal(statSync(path).mode & 0o777, 0o600)
    assert.deepEqual(protectEnvFiles(pools, identities), [], 'once is enough')

    if (!isRoot) return t.diagnostic('not root: the chown case needs root')
    const b = PEOPLE['sy-b'] as PoolIdentity
    chownSync(closed, b.uid, b.gid)
    const owner = { uid: 0, gid: 0 }
    assert.deepEqual(protectEnvFiles(pools, new Map([...identities, ['b', b]]), owner), [], "pool b's own user may own its file")
    assert.deepEqual(protectEnvFiles([{ name: 'a', env: closed }], new Map([...identities, ['b', b]]), owner), [
      `pool 'a': env file ${closed} belonged to another pool's user (uid 991): now owned by uid 0`,
    ])
    assert.equal(statSync(closed).uid, 0)
  })

  void it("gives a pool user's process its own HOME, USER and LOGNAME; its env file may still set HOME", (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-pool-user-env-'))
    t.after(() => rmSync(dir, { recursive: true, force: true }))
    const parent = { HOME: '/root', USER: 'root', PATH: '/usr/bin' }
    const base = { verifyKeys: null, config: '/srv/switchyard.yaml', parent }
    const identity = PEOPLE['sy-a'] as PoolIdentity
    const { env } = workerEnv({ ...base, pool: { name: 'a', env: null }, identity })
    assert.deepEqual([env.HOME, env.USER, env.LOGNAME], ['/nonexistent', 'sy-a', 'sy-a'])
    assert.equal(workerEnv({ ...base, pool: { name: 'a', env: null } }).env.HOME, '/root')
    const envFile = join(dir, 'a.env')
    writeFileSync(envFile, 'HOME=/srv/cache/a\n')
    assert.equal(workerEnv({ ...base, pool: { name: 'a', env: envFile }, identity }).env.HOME, '/srv/cache/a')
  })

  void it('dev names the pools whose user: it ignores, and what one user does not protect', () => {
    assert.equal(devUsersNote(registryOf({ a: null })), null)
    assert.match(
      devUsersNote(registryOf({ a: 'sy-a', b: null, c: '1042' })) ?? '',
      /^user: of pools 'a', 'c' is ignored: dev runs every pool as your own user, so a graph can read every pool's env file, the signing key file and the gateway's \/proc\/<pid>\/environ/,
    )
  })
})
