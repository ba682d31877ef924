// The JSON-lines channel `switchyard dev` speaks with a Python worker on its fd 3: whole
// messages from any chunking, junk reported and skipped, and a line without end (a
// worker trying to make the broker process buffer forever) ends the channel.
import assert from 'node:assert/strict'
import { Duplex } from 'node:stream'
import { test } from 'node:test'

import { ndjsonChannel } from '../../../../src/data/broker/memory/index.js'

function pipe(): { stream: Duplex; written: string[]; feed(text: string | Buffer): void } {
  const written: string[] = []
  const stream = new Duplex({
    read() {},
    write(chunk: Buffer, _encoding, done) {
      written.push(chunk.toString())
      done()
    },
  })
  return { stream, written, feed: (text) => stream.push(text) }
}

const tick = () => new Promise((resolve) => setImmediate(resolve))

void test('messages arrive whole however the bytes are chunked; junk is reported, not delivered', async () => {
  const { stream, feed } = pipe()
  const errors: string[] = []
  const channel = ndjsonChannel(stream, { onError: (message) => errors.push(message) })
  const got: unknown[] = []
  channel.onMessage((message) => got.push(message))
  const text = `${JSON.stringify({ t: 'ready', concurrency: 2 })}\nnot json\n\n${JSON.stringify({ t: 'outcome', id: 1, outcome: { ok: true, output: { s: 'é😀' } } })}\n`
  const bytes = Buffer.from(text)
  for (let i = 0; i < bytes.length; i += 5) feed(bytes.subarray(i, i + 5)) // splits lines and even a UTF-8 character
  await tick()
  assert.deepEqual(got, [
    { t: 'ready', concurrency: 2 },
    { t: 'outcome', id: 1, outcome: { ok: true, output: { s: 'é😀' } } },
  ])
  assert.deepEqual(errors, ['a line from the worker is not JSON: not json'])
})

void test('send writes one JSON line; an endless line ends the channel', async () => {
  const { stream, written, feed } = pipe()
  const errors: string[] = []
  const channel = ndjsonChannel(stream, { maxLineBytes: 1024, onError: (message) => errors.push(message) })
  channel.send({ t: 'depth', queued: 3 })
  assert.deepEqual(written, ['{"t":"depth","queued":3}\n'])
  assert.equal(channel.connected, true)
  feed('x'.repeat(600))
  feed('x'.repeat(600))
  await tick()
  assert.equal(channel.connected, false)
  assert.deepEqual(errors, ['a message from the worker is longer than 1024 bytes'])
  channel.send({ t: 'drain-ack' }) // a closed channel drops it, never throws
  assert.equal(written.length, 1)
})
