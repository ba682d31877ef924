// Idempotency keys are per caller (the review of issue 12 found them per workflow): a
// second token with `run` on the same workflow that reused a key got a 409 naming the
// first caller's run, could then cancel that run, and with the same input got the first
// caller's output. Now a key is scoped to the token that sent it (its owner id, never the
// token), a run is its owner's or an admin's to cancel, and only its owner and the
// workflow's readers read it. Attacked through a real gateway, on Redis and in memory.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'

import { Queue } from 'bullmq'

import { parseTokensFile } from '../../src/gateway/index.js'
import { get, post, startFixture, type Fixture } from '../gateway/fixture.js'
import { redisSkip, startRedis, type RedisServer } from '../helpers/redis.js'

const TOKENS = `
alice-token-00000001   run        workflows=echo.*,held.*   name=alice
bob-token-0000000001   run        workflows=echo.*,held.*   name=bob
carol-token-00000001   run,read   workflows=echo.*,held.*   name=carol
ops-token-0000000001   admin                                name=ops
`
const bearer = (token: string) => ({ authorization: `Bearer ${token}` })
const ALICE = bearer('alice-token-00000001')
const BOB = bearer('bob-token-0000000001')
const CAROL = bearer('carol-token-00000001')
const OPS = bearer('ops-token-0000000001')

const redisSkipped = redisSkip()

interface Problem {
  readonly code: string
  readonly detail: string
}

for (const kind of ['redis', 'memory'] as const) {
  void describe(`idempotency keys and runs per caller (${kind} broker)`, { skip: kind === 'redis' ? redisSkipped : false }, () => {
    let redis: RedisServer | undefined
    let fx: Fixture
    before(async () => {
      if (kind === 'redis') redis = await startRedis()
      fx = await startFixture({ tokens: parseTokensFile(TOKENS, 'tokens') }, redis?.url)
    })
    after(async () => {
      await fx.close()
      await redis?.stop()
    })
    const run = (workflow: string, input: unknown, headers: Record<string, string>) =>
      post(`${fx.url}/v1/workflows/${workflow}/run`, input, headers)
    const runIdOf = (res: { headers: Headers }) => res.headers.get('x-switchyard-run-id') ?? ''
    const cancel = (runId: string, headers: Record<string, string>) => post(`${fx.url}/v1/runs/${runId}/cancel`, '', headers)
    const runsWithKey = async (key: string) => (await fx.broker.list({ limit: 1000 })).filter((r) => r.idempotencyKey === key)

    void test("B reusing A's key with A's input gets a run of its own, never A's id or output; A still dedupes", async () => {
      const key = `${kind}-same-input`
      const a = await run('echo.say', { text: 'for alice' }, { ...ALICE, 'idempotency-key': key })
      assert.equal(a.status, 200)
      const aRun = runIdOf(a)
      const b = await run('echo.say', { text: 'for alice' }, { ...BOB, 'idempotency-key': key })
      assert.equal(b.status, 200)
      const bRun = runIdOf(b)
      assert.ok(bRun !== '' && bRun !== aRun, "bob's answer names a run of its own")
      assert.notEqual(b.headers.get('x-switchyard-trace-id'), a.headers.get('x-switchyard-trace-id'))
      assert.doesNotMatch(JSON.stringify(b.body), new RegExp(aRun))
      // Two runs, each executed once, each its owner's: bob's output came from bob's run.
      const runs = await runsWithKey(key)
      assert.equal(runs.length, 2)
      assert.deepEqual(runs.map((r) => [r.runId === aRun ? 'a' : r.runId === bRun ? 'b' : r.runId, r.status, r.attempts]).sort(), [
        ['a', 'succeeded', 1],
        ['b', 'succeeded', 1],
      ])
      assert.notEqual(runs[0]?.owner, runs[1]?.owner)
      assert.deepEqual(b.body, { said: 'for alice' })

      // Each still dedupes its own retry (sync and async): the same run, not run again.
      const aAgain = await run('echo.say', { text: 'for alice' }, { ...ALICE, 'idempotency-key': key })
      assert.deepEqual([aAgain.status, runIdOf(aAgain)], [200, aRun])
      const bAgain = await run('echo.say', { text: 'for alice' }, { ...BOB, 'idempotency-key': key, prefer: 'respond-async' })
      assert.deepEqual([bAgain.status, runIdOf(bAgain), (bAgain.body as { runId: string }).runId], [202, bRun, bRun])
      assert.equal((await runsWithKey(key)).length, 2)
    })

    void test("B reusing A's key with another input gets its own run (no 409); a 409 names only the caller's own run", async () => {
      const key = `${kind}-other-input`
      const a = await run('echo.say', { text: 'alice private' }, { ...ALICE, 'idempotency-key': key })
      assert.equal(a.status, 200)
      const aRun = runIdOf(a)
      const b = await run('echo.say', { text: 'bob own' }, { ...BOB, 'idempotency-key': key })
      assert.equal(b.status, 200, JSON.stringify(b.body))
      assert.deepEqual(b.body, { said: 'bob own' })
      const bRun = runIdOf(b)
      assert.ok(bRun !== '' && bRun !== aRun)
      // An async submit answers with the run view: bob's own, never alice's.
      const bAsync = await run('echo.say', { text: 'bob own' }, { ...BOB, 'idempotency-key': key, prefer: 'respond-async' })
      assert.equal((bAsync.body as { runId: string }).runId, bRun)
      assert.doesNotMatch(JSON.stringify(bAsync.body), /alice private/)

      // Each caller's conflict names its own run, and no other.
      const bConflict = await run('echo.say', { text: 'bob changed' }, { ...BOB, 'idempotency-key': key })
      assert.equal(bConflict.status, 409)
      const bProblem = bConflict.body as Problem
      assert.equal(bProblem.code, 'IDEMPOTENCY_CONFLICT')
      assert.match(bProblem.detail, new RegExp(`\\(run ${bRun}\\)$`))
      assert.doesNotMatch(JSON.stringify(bConflict.body), new RegExp(aRun))
      assert.notEqual(bConflict.headers.get('x-switchyard-run-id'), aRun)
      const aConflict = await run('echo.say', { text: 'alice changed' }, { ...ALICE, 'idempotency-key': key })
      assert.equal(aConflict.status, 409)
      assert.match((aConflict.body as Problem).detail, new RegExp(`\\(run ${aRun}\\)$`))
      assert.doesNotMatch(JSON.stringify(aConflict.body), new RegExp(bRun))
    })

    void test("B cannot cancel or read A's run; a reader reads but cannot cancel it; A reads and cancels its own; an admin cancels any", async () => {
      // The held pool has no worker: these runs stay queued until cancelled.
      const queue = async (headers: Record<string, string>) => {
        const res = await run('held.wait', { n: 1 }, { ...headers, prefer: 'respond-async' })
        assert.equal(res.status, 202, JSON.stringify(res.body))
        return runIdOf(res)
      }
      const aRun = await queue(ALICE)

      const bCancel = await cancel(aRun, BOB)
      assert.equal(bCancel.status, 403)
      assert.equal((bCancel.body as Problem).code, 'FORBIDDEN')
      assert.match((bCancel.body as Problem).detail, /only the token that started a run, or an admin token, may cancel it/)
      assert.doesNotMatch((bCancel.body as Problem).detail, /alice/)
      const bRead = await get(`${fx.url}/v1/runs/${aRun}`, BOB)
      assert.equal(bRead.status, 403)
      assert.doesNotMatch(JSON.stringify(bRead.body), /"input"|"status":"queued"/)
      // Carol reads every run of the workflow (role read), but may not cancel another's.
      const cRead = await get(`${fx.url}/v1/runs/${aRun}`, CAROL)
      assert.deepEqual([cRead.status, (cRead.body as { status: string }).status], [200, 'queued'])
      assert.equal((await cancel(aRun, CAROL)).status, 403)
      assert.equal((await fx.broker.get(aRun))?.status, 'queued', 'nobody but its owner or an admin cancelled it')

      // Alice (role run only) reads her own run back and cancels it.
      const aRead = await get(`${fx.url}/v1/runs/${aRun}`, ALICE)
      assert.deepEqual([aRead.status, (aRead.body as { runId: string }).runId], [200, aRun])
      const aCancel = await cancel(aRun, ALICE)
      assert.deepEqual([aCancel.status, (aCancel.body as { status: string }).status], [200, 'cancelled'])

      // An admin cancels anyone's run.
      const another = await queue(ALICE)
      const opsCancel = await cancel(another, OPS)
      assert.deepEqual([opsCancel.status, (opsCancel.body as { status: string }).status], [200, 'cancelled'])
      // Bob cancels his own.
      const bobs = await queue(BOB)
      assert.equal((await cancel(bobs, BOB)).status, 200)
    })

    // Only Redis keeps runs across an upgrade: the memory broker has no run from before owners.
    if (kind === 'redis')
      void test("a run whose owner is not known (queued before owners were kept) is an admin's to cancel", async () => {
        const res = await run('held.wait', { n: 2 }, { ...ALICE, prefer: 'respond-async' })
        const runId = runIdOf(res)
        // As a broker before this change left it: the job, and no owner key beside it.
        const queue = new Queue('any', { connection: { url: redis?.url ?? '' } })
        try {
          queue.on('error', () => undefined)
          const client = (await queue.client) as unknown as { call(...args: string[]): Promise<unknown> }
          const [ownerKey] = (await client.call('KEYS', `*sy-owner:${runId}`)) as string[]
          assert.ok(ownerKey)
          await client.call('DEL', ownerKey)
        } finally {
          await queue.close()
        }
        assert.equal((await fx.broker.get(runId))?.owner, null)
        assert.equal((await cancel(runId, ALICE)).status, 403)
        assert.equal((await get(`${fx.url}/v1/runs/${runId}`, ALICE)).status, 403)
        assert.equal((await get(`${fx.url}/v1/runs/${runId}`, CAROL)).status, 200)
        assert.deepEqual([(await cancel(runId, OPS)).status, (await fx.broker.get(runId))?.status], [200, 'cancelled'])
      })
  })
}
