// SECURITY.md row 6 from the side the slow-header test does not cover: a caller that may
// run (any process on an open `dev`, a token's holder elsewhere) sends complete headers
// and then its body a byte at a time. Once its headers are in, the connection counted as
// "being served" and never gave way, so the cap's worth of such uploads shut every other
// caller out for the whole request timeout (30 s), again and again. A body still
// arriving now gives way at the cap too (after idle connections, oldest first).
//
// Real parts: the gateway on loopback with a small cap, raw TCP sockets as the attacker,
// fetch as the next caller.
import assert from 'node:assert/strict'
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { connect, type Socket } from 'node:net'
import { after, before, test } from 'node:test'

import { eventually } from '../helpers/eventually.js'
import { parseTokensFile } from '../../src/gateway/index.js'
import { startFixture, type Fixture } from '../gateway/fixture.js'

const CAP = 16
let fx: Fixture
const sockets: Socket[] = []
// Node's own channel: a request's headers were parsed (it is "being served" from then on).
let parsedPosts = 0
const onRequest = (message: unknown) => {
  if ((message as { request: { method: string } }).request.method === 'POST') parsedPosts += 1
}
subscribe('http.server.request.start', onRequest)

before(async () => {
  // Two callers, two flows: fair admission (a flow's requests wait behind its own) stays out of it.
  fx = await startFixture({
    connections: { maxConnections: CAP },
    tokens: parseTokensFile('attacker-token run\nnext-token run\n', 'tokens'),
  })
})
after(async () => {
  unsubscribe('http.server.request.start', onRequest)
  for (const socket of sockets) socket.destroy()
  await fx.close()
})

void test('uploads stalled mid-body fill the cap: the next caller is served, the oldest stalled upload gives way', async () => {
  const { port } = new URL(fx.url)
  const closed: boolean[] = []
  for (let i = 0; i < CAP; i++) {
    const socket = connect(Number(port), '127.0.0.1')
    socket.on('error', () => undefined)
    const index = i
    closed[index] = false
    socket.once('close', () => (closed[index] = true))
    sockets.push(socket)
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()))
    // Whole headers, one byte of a 1,000-byte body, then nothing.
    socket.write(
      `POST /v1/workflows/echo.say/run HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nauthorization: Bearer attacker-token\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{`,
    )
    // Its headers are in before the next connection comes: it counts as being served.
    await eventually(`stalled upload ${i + 1}'s headers to be parsed`, () => parsedPosts === i + 1, 10_000)
  }

  const next = await fetch(`${fx.url}/v1/workflows/echo.say/run`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer next-token' },
    body: JSON.stringify({ text: 'still served' }),
    signal: AbortSignal.timeout(10_000),
  })
  assert.equal(next.status, 200)
  assert.deepEqual(await next.json(), { said: 'still served' })
  assert.equal(closed[0], true, 'the oldest stalled upload was closed to make room')
})
