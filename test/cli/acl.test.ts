// `switchyard acl` (issue 12.11): its ACL SETUSER lines, applied to a real redis-server,
// give each pool a user that reaches its own queue's keys only and none of the server's
// shared state, and the gateway a user that reaches every queue.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

import { Queue } from 'bullmq'

import { redisPerFile } from '../helpers/redis-per-file.js'

const { skip, server } = redisPerFile()
const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url))
const NOPERM = /\bNOPERM /

interface Raw {
  call(...args: string[]): Promise<unknown>
  hset(key: string, field: string, value: string): Promise<number>
  hget(key: string, field: string): Promise<string | null>
  set(key: string, value: string): Promise<unknown>
  publish(channel: string, message: string): Promise<number>
  subscribe(channel: string): Promise<unknown>
  psubscribe(pattern: string): Promise<unknown>
}
const opened: Queue[] = []
/** A raw client with some user's credentials (BullMQ's connection; ioredis underneath). */
async function connect(url: string): Promise<Raw> {
  const queue = new Queue('acl-test', { connection: { url } })
  queue.on('error', () => undefined)
  opened.push(queue)
  return (await queue.client) as unknown as Raw
}

void test('switchyard acl: one user per pool and one for the gateway, each only where it must reach', { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-acl-'))
  writeFileSync(join(dir, 'g.mjs'), 'export function graph() { return (i) => i }\n')
  writeFileSync(
    join(dir, 'switchyard.yaml'),
    `version: 1
pools:
  email: {}
  research: {}
workflows:
  email.echo: { pool: email, graph: g.mjs#graph, input: { type: object }, description: d }
  research.echo: { pool: research, graph: g.mjs#graph, input: { type: object }, description: d }
`,
  )
  const script = `import { main } from ${JSON.stringify(MAIN)}; await main(['acl', '--config', ${JSON.stringify(join(dir, 'switchyard.yaml'))}])`
  const made = spawnSync(process.execPath, ['--import', import.meta.resolve('tsx'), '--input-type=module', '-e', script], {
    encoding: 'utf8',
  })
  rmSync(dir, { recursive: true, force: true })
  assert.equal(made.status, 0, made.stderr)
  const lines = made.stdout.trim().split('\n')
  assert.deepEqual(
    lines.map((line) => line.split(' ').slice(0, 3).join(' ')),
    ['ACL SETUSER switchyard-gateway', 'ACL SETUSER switchyard-pool-email', 'ACL SETUSER switchyard-pool-research'],
  )
  const urls = new Map([...made.stderr.matchAll(/^# (\S+): (redis:\/\/\S+)$/gm)].map((m) => [m[1]!, m[2]!]))
  const { url, port } = server()
  const admin = await connect(url)
  try {
    for (const line of lines) await admin.call(...line.split(' '))
    const as = (user: string) => connect(urls.get(user)!.replace('HOST:PORT', `127.0.0.1:${port}`))
    const email = await as('switchyard-pool-email')
    const gateway = await as('switchyard-gateway')
    // Its own queue's keys: yes.
    assert.equal(await email.hset('bull:switchyard.email:r1', 'name', 'email.echo'), 1)
    // Another pool's keys, listing keys, the server's functions, other clients: no.
    await assert.rejects(email.hget('bull:switchyard.research:r1', 'name'), NOPERM)
    await assert.rejects(email.call('KEYS', '*'), NOPERM)
    await assert.rejects(email.call('FUNCTION', 'FLUSH'), NOPERM)
    await assert.rejects(email.call('CLIENT', 'TRACKING', 'on', 'BCAST'), NOPERM)
    await assert.rejects(email.call('CLIENT', 'KILL', 'TYPE', 'normal'), NOPERM)
    // Channels: a pool's user subscribes to its own pool's cancel channel only, and publishes
    // nowhere (a hostile pool can neither hear nor fake another pool's cancels).
    const emailCancels = 'bull:switchyard.email:sy-cancel'
    const researchCancels = 'bull:switchyard.research:sy-cancel'
    const listening = await as('switchyard-pool-email')
    await listening.subscribe(emailCancels)
    for (const channel of [researchCancels, 'bull:switchyard.email:other', 'elsewhere'])
      await assert.rejects((await as('switchyard-pool-email')).subscribe(channel), NOPERM, channel)
    await assert.rejects((await as('switchyard-pool-email')).psubscribe('*'), NOPERM)
    await assert.rejects((await as('switchyard-pool-email')).psubscribe('bull:switchyard.*:sy-cancel'), NOPERM)
    for (const channel of [emailCancels, researchCancels]) await assert.rejects(email.publish(channel, 'run-1'), NOPERM, channel)
    // The gateway publishes cancels to every pool's channel (received by the pool that listens), nowhere else, and hears none.
    assert.equal(await gateway.publish(emailCancels, 'run-1'), 1)
    assert.equal(await gateway.publish(researchCancels, 'run-1'), 0)
    await assert.rejects(gateway.publish('elsewhere', 'x'), NOPERM)
    await assert.rejects((await as('switchyard-gateway')).subscribe(emailCancels), NOPERM)
    // The gateway writes every pool's queue and counts workers (CLIENT LIST), nothing else.
    assert.equal(await gateway.hset('bull:switchyard.research:r2', 'name', 'research.echo'), 1)
    assert.equal(typeof (await gateway.call('CLIENT', 'LIST')), 'string')
    await assert.rejects(gateway.call('FUNCTION', 'FLUSH'), NOPERM)
    await assert.rejects(gateway.set('elsewhere', '1'), NOPERM)
  } finally {
    await Promise.all(opened.map((queue) => queue.close()))
  }
})
