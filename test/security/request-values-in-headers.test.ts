// Issue 12.1: one request used to take the gateway down. A run id from the URL was
// copied into a response header; a byte Node refuses in a header value (NUL, CR, LF,
// DEL, anything past Latin-1) threw outside the handler's error path, and the
// unhandled rejection ended the process. No request value may reach a header unchecked.
import assert from 'node:assert/strict'
import { request } from 'node:http'
import { after, before, test } from 'node:test'
import { startFixture, type Fixture } from '../gateway/fixture.js'

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
