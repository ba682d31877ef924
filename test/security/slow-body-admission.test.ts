// Fair admission (SECURITY.md row 6) against uploads that hold their body back: a request
// asks for a place in its flow only once its whole body has arrived. Before, the body was
// read while the request held its place, so a caller's stalled uploads held every place of
// its flow (on an open gateway: of everyone's flow to that pool) and filled its queue until
// the request timeout; the next request waited for them, or was refused 429.
//
// Real parts: the gateway on loopback with small admission bounds, raw TCP sockets as the
// attacker, fetch as the next caller (the same caller: an open gateway has one).
import assert from 'node:assert/strict'
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { connect, type Socket } from 'node:net'
import { after, before, test } from 'node:test'

import { eventually } from '../helpers/eventually.js'
import { startFixture, type Fixture } from '../gateway/fixture.js'

// Two places and a queue of four for the flow: eight stalled uploads would hold both places,
// fill the queue and be refused past it.
const ADMISSION = { perFlow: 2, queuePerFlow: 4, concurrency: 4 }
const STALLED = 8
let fx: Fixture
const sockets: Socket[] = []
let parsedPosts = 0
const onRequest = (message: unknown) => {
  if ((message as { request: { method: string } }).request.method === 'POST') parsedPosts += 1
}
subscribe('http.server.request.start', onRequest)

before(async () => {
  fx = await startFixture({ admission: ADMISSION })
})
after(async () => {
  unsubscribe('http.server.request.start', onRequest)
  for (const socket of sockets) socket.destroy()
  await fx.close()
})

void test('uploads stalled mid-body hold no place: the next request of their flow is admitted and served', async () => {
  const { port } = new URL(fx.url)
  const answered: string[] = []
  for (let i = 0; i < STALLED; i++) {
    const socket = connect(Number(port), '127.0.0.1')
    socket.on('error', () => undefined)
    socket.on('data', (chunk) => answered.push(chunk.toString('latin1').split('\r\n')[0] ?? ''))
    sockets.push(socket)
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()))
    socket.write(
      `POST /v1/workflows/echo.say/run HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{`,
    )
    await eventually(`stalled upload ${i + 1}'s headers to be parsed`, () => parsedPosts === i + 1, 10_000)
  }

  const next = await fetch(`${fx.url}/v1/workflows/echo.say/run`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ text: 'still served' }),
    signal: AbortSignal.timeout(10_000),
  })
  assert.equal(next.status, 200, await next.clone().text())
  assert.deepEqual(await next.json(), { said: 'still served' })
  // Nobody stalled was answered (no 429 for them either): they wait on their own bodies.
  assert.deepEqual(answered, [])

  // A stalled upload that completes its body is then admitted and served like any other.
  const [first] = sockets
  const body = Buffer.alloc(999, ' ')
  body.write('"text":"late"}', 0)
  const late = new Promise<string>((resolve) => first?.once('data', (chunk) => resolve(chunk.toString('latin1'))))
  first?.write(body)
  const reply = await late
  assert.match(reply, /^HTTP\/1\.1 200 /)
})
