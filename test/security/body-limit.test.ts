// Issue 12.1: a client that sends a body over the limit must receive the 413. The gateway
// answered and closed the connection while the body was still arriving; the unread bytes
// made the kernel reset it, and a client that writes its whole body before reading (as
// most do) got EPIPE or ECONNRESET instead of the answer — every time for bodies larger
// than the socket buffers. The gateway now answers, then reads the rest and discards it
// (bounded: src/gateway/drain.ts), so the answer arrives; a 401 too.
import assert from 'node:assert/strict'
import { request } from 'node:http'
import { connect } from 'node:net'
import { after, before, test } from 'node:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { OTLP_BODY_LIMIT } from '../../src/observe/otlp/otlp-receiver.js'
import { startFixture, type Fixture } from '../gateway/fixture.js'

const LIMIT = 4096

let fx: Fixture
let guarded: Fixture
let traceDir: string
before(async () => {
  traceDir = mkdtempSync(join(tmpdir(), 'switchyard-body-limit-'))
  fx = await startFixture({ bodyLimitBytes: LIMIT, traceDir })
  guarded = await startFixture({ tokens: ['body-limit-token'] })
})
after(async () => {
  await fx.close()
  await guarded.close()
  rmSync(traceDir, { recursive: true, force: true })
})

/** Run `jobs` `width` at a time: concurrency is where a close races the client's writes. */
async function pool(jobs: (() => Promise<void>)[], width: number): Promise<void> {
  const queue = [...jobs]
  await Promise.all(
    Array.from({ length: width }, async () => {
      for (let job = queue.shift(); job; job = queue.shift()) await job()
    }),
  )
}

const FILLER = Buffer.alloc(1024 * 1024, 0x20)
/** `{` then spaces: valid JSON would need a `}` the limit never lets through. */
const payload = (n: number): Buffer => {
  const part = Buffer.from(FILLER.subarray(0, n))
  part[0] = 0x7b
  return part
}

type Outcome = { status: number; code?: string } | { error: string }

/** POST `size` bytes of JSON in `chunk`-byte writes, declared up front or chunked. */
function send(path: string, size: number, chunk: number, declared: boolean, contentType = 'application/json'): Promise<Outcome> {
  const url = new URL(fx.url)
  return new Promise((resolve) => {
    const headers: Record<string, string | number> = { 'content-type': contentType }
    if (declared) headers['content-length'] = size
    const req = request({ host: url.hostname, port: url.port, method: 'POST', path, headers, agent: false }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => (body += c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, code: (JSON.parse(body || '{}') as { code?: string }).code }))
      res.on('error', (error) => resolve({ error: `response: ${error.message}` }))
    })
    req.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }))
    let at = 0
    const pump = () => {
      while (at < size) {
        const part = payload(Math.min(chunk, size - at))
        at += part.length
        if (!req.write(part)) return void req.once('drain', pump)
      }
      req.end()
    }
    pump()
  })
}

void test('an over-limit run body always gets its 413, whatever its size and framing (600 requests, 8 at a time)', async () => {
  const sizes = [LIMIT + 1, 64 * 1024, 1024 * 1024]
  const outcomes: { what: string; outcome: Outcome }[] = []
  const jobs = Array.from({ length: 600 }, (_, i) => async () => {
    const size = sizes[i % sizes.length] as number
    const declared = i % 4 < 2
    const chunk = i % 5 === 0 ? 1024 : 16 * 1024
    const what = `${size} bytes ${declared ? 'content-length' : 'chunked'} in ${chunk}-byte writes`
    outcomes.push({ what, outcome: await send('/v1/workflows/echo.say/run', size, chunk, declared) })
  })
  await pool(jobs, 8)
  const wrong = outcomes.filter(({ outcome }) => !('status' in outcome) || outcome.status !== 413 || outcome.code !== 'PAYLOAD_TOO_LARGE')
  assert.deepEqual(wrong.slice(0, 5), [], `${wrong.length} of ${outcomes.length} did not get a 413`)
  assert.equal((await fetch(`${fx.url}/healthz`)).status, 200)
})

void test('an over-limit OTLP export gets its 413 too (40 exports just past 32 MiB)', async () => {
  const outcomes: Outcome[] = []
  const jobs = Array.from({ length: 40 }, (_, i) => async () => {
    outcomes.push(await send('/v1/traces', OTLP_BODY_LIMIT + 64 * 1024, 256 * 1024, i % 2 === 0))
  })
  await pool(jobs, 4)
  const wrong = outcomes.filter((outcome) => !('status' in outcome) || outcome.status !== 413)
  assert.deepEqual(wrong.slice(0, 5), [], `${wrong.length} of ${outcomes.length} did not get a 413`)
})

/**
 * A client that writes its whole request before it reads a byte of the answer (curl,
 * Python's http.client, most SDKs): the status line it gets, or the socket error.
 */
function writeThenRead(base: string, path: string, size: number, declared: boolean): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(Number(new URL(base).port), '127.0.0.1')
    socket.pause()
    let text = ''
    let settled = false
    const settle = (outcome: string) => {
      if (settled) return
      settled = true
      socket.destroy()
      resolve(outcome)
    }
    socket.on('error', (error: NodeJS.ErrnoException) => settle(error.code ?? error.message))
    const framing = declared ? `content-length: ${size}` : 'transfer-encoding: chunked'
    socket.write(`POST ${path} HTTP/1.1\r\nhost: ${new URL(base).host}\r\ncontent-type: application/json\r\n${framing}\r\n\r\n`)
    let left = size
    const writeNext = () => {
      while (left > 0) {
        const part = payload(Math.min(left, FILLER.length))
        left -= part.length
        const framed = declared ? part : Buffer.concat([Buffer.from(`${part.length.toString(16)}\r\n`), part, Buffer.from('\r\n')])
        if (!socket.write(framed)) return void socket.once('drain', writeNext)
      }
      socket.write(declared ? '' : '0\r\n\r\n', () => {
        // Only now does it read.
        socket.on('data', (chunk: Buffer) => {
          text += chunk.toString('latin1')
          if (text.includes('\r\n\r\n')) settle(text.slice(0, text.indexOf('\r\n')))
        })
        socket.on('end', () => settle(text.split('\r\n')[0] || 'closed without an answer'))
        socket.resume()
      })
    }
    writeNext()
  })
}

void test('a client that writes 8 or 32 MiB before reading gets the 413, not a reset (24 requests)', async () => {
  const outcomes: string[] = []
  const jobs = Array.from({ length: 24 }, (_, i) => async () => {
    const size = (i % 2 === 0 ? 8 : 32) * 1024 * 1024
    outcomes.push(await writeThenRead(fx.url, '/v1/workflows/echo.say/run', size, i % 4 < 2))
  })
  await pool(jobs, 4)
  assert.deepEqual(new Set(outcomes), new Set(['HTTP/1.1 413 Payload Too Large']))
})

void test('the same for an OTLP export past its 32 MiB limit, and for a 401 to a big body without a token', async () => {
  assert.equal(await writeThenRead(fx.url, '/v1/traces', OTLP_BODY_LIMIT + 4 * 1024 * 1024, true), 'HTTP/1.1 413 Payload Too Large')
  assert.equal(await writeThenRead(fx.url, '/v1/traces', OTLP_BODY_LIMIT + 4 * 1024 * 1024, false), 'HTTP/1.1 413 Payload Too Large')
  assert.equal(await writeThenRead(guarded.url, '/v1/workflows/echo.say/run', 16 * 1024 * 1024, true), 'HTTP/1.1 401 Unauthorized')
})
