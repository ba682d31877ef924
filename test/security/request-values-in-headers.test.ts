// Issue 12.1: one request used to take the gateway down. A run id from the URL was
// copied into a response header; a byte Node refuses in a header value (NUL, CR, LF,
// DEL, anything past Latin-1) threw outside the handler's error path, and the
// unhandled rejection ended the process. No request value may reach a header unchecked.
import assert from 'node:assert/strict'
import { request } from 'node:http'
import { after, before, test } from 'node:test'
import { Queue } from 'bullmq'
import { get, post, startFixture, type Fixture } from '../gateway/fixture.js'
import { redisSkip, startRedis } from '../helpers/redis.js'

let fx: Fixture
before(async () => {
  fx = await startFixture()
})
after(() => fx.close())

/** A raw request: fetch would refuse to send some of these paths at all. */
function raw(path: string, method = 'GET'): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  const url = new URL(fx.url)
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method, path }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (body += chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

for (const id of ['%00', '%E2%98%83', '%0D%0A', '%7F', '%0Aset-cookie:%20x=1', 'ok%01ok', '%C3%A9t%C3%A9']) {
  void test(`GET /v1/runs/${id} is a 404 problem and the gateway keeps serving`, async () => {
    const res = await raw(`/v1/runs/${id}`)
    assert.equal(res.status, 404)
    assert.equal(JSON.parse(res.body).code, 'UNKNOWN_RUN')
    // The id never reaches a header, so nothing can be injected through it.
    assert.equal(res.headers['x-switchyard-run-id'], undefined)
    assert.equal(res.headers['set-cookie'], undefined)
    const health = await raw('/healthz')
    assert.equal(health.status, 200)
  })
}

void test('the same bytes in the cancel and events paths are answered, never a crash', async () => {
  for (const path of ['/v1/runs/%00/cancel', '/v1/runs/%0D%0A/events', '/v1/traces/%00', '/v1/workflows/%E2%98%83']) {
    for (const method of ['GET', 'POST']) {
      const res = await raw(path, method)
      assert.ok(res.status >= 400 && res.status < 500, `${method} ${path} answered ${res.status}`)
    }
  }
  assert.equal((await raw('/healthz')).status, 200)
})

// A value a hostile pool writes into Redis reaches the gateway too: the run id of an
// idempotency claim under the pool's own queue prefix (which its ACL user may write) is
// what a deduplicated submission answers with. Only safeHeaders keeps it out of a header.
const skip = redisSkip()
void test('a run id a hostile pool planted in its idempotency claim never reaches a header; the caller is answered', { skip }, async () => {
  const redis = await startRedis()
  const fxr = await startFixture({}, redis.url)
  // Any connection of the server will do: the pool's user may write these keys (its queue prefix).
  const queue = new Queue('hostile-pool', { connection: { url: redis.url } })
  try {
    queue.on('error', () => undefined)
    const client = (await queue.client) as unknown as { call(...args: string[]): Promise<unknown> }
    const input = { text: 'planted' }
    const first = await post(`${fxr.url}/v1/workflows/echo.say/run`, input, { 'idempotency-key': 'hk-1', prefer: 'respond-async' })
    assert.equal(first.status, 202)
    const [claimKey] = (await client.call('KEYS', '*sy-key:*:echo.say:hk-1')) as string[]
    assert.ok(claimKey, 'the claim of the first submission')
    const base = claimKey.slice(0, claimKey.indexOf('sy-key:'))
    const claim = JSON.parse(((await client.call('GET', claimKey)) as string | null) ?? '{}') as {
      runId: string
      fingerprint: string
      at: number
    }
    // What the pool's graph writes with its own Redis user: a job under that id, and the claim pointing at it.
    const planted = 'x\r\nset-cookie: session=stolen'
    await client.call('HSET', `${base}${planted}`, 'data', '{}', 'name', 'echo.say', 'timestamp', String(Date.now()))
    await client.call('SET', claimKey, JSON.stringify({ ...claim, runId: planted }), 'PX', '60000')
    const again = await post(`${fxr.url}/v1/workflows/echo.say/run`, input, { 'idempotency-key': 'hk-1', prefer: 'respond-async' })
    assert.equal(again.status, 202)
    assert.equal(again.headers.get('set-cookie'), null)
    assert.equal(again.headers.get('x-switchyard-run-id'), null, 'a run id that cannot be a header is left out')
    assert.equal((await get(`${fxr.url}/healthz`)).status, 200)
  } finally {
    await queue.close()
    await fxr.close()
    await redis.stop()
  }
})
