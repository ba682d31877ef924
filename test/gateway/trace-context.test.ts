// W3C Trace Context Level 2 at the gateway, case by case from the W3C's own test suite
// (w3c/trace-context test/test.py, strict level 2, TraceContext2Test): the harness sends
// headers to a service and reads the traceparent/tracestate the service sends on. Here
// the service is the gateway and "sends on" is the envelope a pool consumer receives: a
// real MemoryBroker consumer answers each run with its envelope's trace carrier.
import assert from 'node:assert/strict'
import { rmSync } from 'node:fs'
import { request } from 'node:http'
import { after, before, describe, test } from 'node:test'
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base'
import { TRACE_FLAG_RANDOM, TRACE_FLAG_SAMPLED, parseTraceparent, parseTracestate } from '../../src/control/index.js'
import type { TraceCarrier } from '../../src/data/index.js'
import { MemoryBroker } from '../../src/data/broker/memory/index.js'
import { startGateway, type Gateway } from '../../src/gateway/index.js'
import { initTracing, type Tracing } from '../../src/observe/index.js'
import { writeRegistry } from './fixture.js'

const TRACE = '12345678901234567890123456789012'
const PARENT = '1234567890123456'
const TP00 = `00-${TRACE}-${PARENT}-00`
const TP01 = `00-${TRACE}-${PARENT}-01`

let gateway: Gateway
let broker: MemoryBroker
let tracing: Tracing
let cleanup: () => void

before(async () => {
  tracing = initTracing({ service: 'switchyard-gateway', env: {}, exporter: new InMemorySpanExporter() })
  const { registry, dir } = writeRegistry()
  broker = new MemoryBroker({ pools: registry.pools.values() })
  // The pool's consumer: every run's output is the trace context its envelope carried.
  broker.source('email').start(async (delivery) => ({ ok: true, output: (delivery.raw as { trace: TraceCarrier }).trace }), {
    concurrency: 8,
  })
  gateway = await startGateway({ registry, broker, port: 0, tokens: null, signingKey: null })
  cleanup = () => rmSync(dir, { recursive: true, force: true })
})
after(async () => {
  await gateway.close()
  await broker.close()
  await tracing.shutdown()
  cleanup()
})

interface Sent {
  readonly traceparent: { traceId: string; parentId: string; flags: number }
  readonly tracestate: Map<string, string>
  readonly rawTracestate: string
  readonly serverTiming: string
}

/** POST a run with exactly these header lines (names as given, repeats as separate lines). */
function send(headers: ReadonlyArray<readonly [string, string]>): Promise<Sent> {
  const url = new URL(`${gateway.url}/v1/workflows/echo.say/run`)
  // A raw header list: Node adds no Host to it, and HTTP/1.1 requires one.
  const lines: string[] = ['host', url.host, 'content-type', 'application/json']
  for (const [name, value] of headers) lines.push(name, value)
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: lines }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (text += chunk))
      res.on('end', () => {
        try {
          assert.equal(res.statusCode, 200, text)
          const carrier = JSON.parse(text) as TraceCarrier
          const traceparent = parseTraceparent(carrier.traceparent)
          assert.ok(traceparent, `the gateway sent on an invalid traceparent '${carrier.traceparent}'`)
          const members = parseTracestate(carrier.tracestate)
          assert.ok(members, `the gateway sent on an invalid tracestate '${carrier.tracestate}'`)
          resolve({
            traceparent,
            tracestate: new Map(members),
            rawTracestate: carrier.tracestate,
            serverTiming: String(res.headers['server-timing'] ?? ''),
          })
        } catch (error) {
          reject(error as Error)
        }
      })
    })
    req.on('error', reject)
    req.end('{"text":"hi"}')
  })
}

void describe('traceparent (W3C test suite, TraceContextTest)', () => {
  void test('both traceparent and tracestate missing: a valid traceparent is sent on', async () => {
    const { traceparent } = await send([])
    assert.notEqual(traceparent.traceId, TRACE)
  })

  void test('traceparent included, tracestate missing: same trace id, new parent id', async () => {
    const { traceparent } = await send([['traceparent', TP01]])
    assert.equal(traceparent.traceId, TRACE)
    assert.notEqual(traceparent.parentId, PARENT)
  })

  void test('traceparent duplicated: a new trace', async () => {
    const { traceparent } = await send([
      ['traceparent', '00-12345678901234567890123456789011-1234567890123456-01'],
      ['traceparent', '00-12345678901234567890123456789012-1234567890123456-01'],
    ])
    assert.notEqual(traceparent.traceId, '12345678901234567890123456789011')
    assert.notEqual(traceparent.traceId, TRACE)
  })

  void test('header names: wrong names restart, any casing continues', async () => {
    for (const name of ['trace-parent', 'trace.parent']) assert.notEqual((await send([[name, TP01]])).traceparent.traceId, TRACE)
    for (const name of ['TraceParent', 'TrAcEpArEnT', 'TRACEPARENT']) assert.equal((await send([[name, TP01]])).traceparent.traceId, TRACE)
  })

  void test('versions: 00 with trailing data restarts; a future version cc is parsed; ff restarts', async () => {
    const restart = [
      `${TP01}.`,
      `${TP01}-what-the-future-will-be-like`,
      `cc-${TRACE}-${PARENT}-01.what-the-future-will-be-like`,
      `ff-${TRACE}-${PARENT}-01`,
      `.0-${TRACE}-${PARENT}-01`,
      `0.-${TRACE}-${PARENT}-01`,
      `000-${TRACE}-${PARENT}-01`,
      `0000-${TRACE}-${PARENT}-01`,
      `0-${TRACE}-${PARENT}-01`,
    ]
    for (const value of restart) assert.notEqual((await send([['traceparent', value]])).traceparent.traceId, TRACE, value)
    for (const value of [`cc-${TRACE}-${PARENT}-01`, `cc-${TRACE}-${PARENT}-01-what-the-future-will-be-like`]) {
      const { traceparent } = await send([['traceparent', value]])
      assert.equal(traceparent.traceId, TRACE, value)
    }
  })

  void test('trace id, parent id and flags: all zero, illegal characters, too long or too short restart', async () => {
    const restart = [
      `00-00000000000000000000000000000000-${PARENT}-01`,
      `00-.2345678901234567890123456789012-${PARENT}-01`,
      `00-1234567890123456789012345678901.-${PARENT}-01`,
      `00-123456789012345678901234567890123-${PARENT}-01`,
      `00-1234567890123456789012345678901-${PARENT}-01`,
      `00-${TRACE}-0000000000000000-01`,
      `00-${TRACE}-.234567890123456-01`,
      `00-${TRACE}-123456789012345.-01`,
      `00-${TRACE}-12345678901234567-01`,
      `00-${TRACE}-123456789012345-01`,
      `00-${TRACE}-${PARENT}-.0`,
      `00-${TRACE}-${PARENT}-0.`,
      `00-${TRACE}-${PARENT}-001`,
      `00-${TRACE}-${PARENT}-1`,
    ]
    for (const value of restart) {
      const { traceparent } = await send([['traceparent', value]])
      assert.notEqual(traceparent.traceId, TRACE, value)
      assert.notEqual(traceparent.traceId, '00000000000000000000000000000000', value)
    }
  })

  void test('optional whitespace around traceparent is accepted', async () => {
    for (const value of [` ${TP01}`, `\t${TP01}`, `${TP01} `, `${TP01}\t`, `\t ${TP01} \t`]) {
      assert.equal((await send([['traceparent', value]])).traceparent.traceId, TRACE, JSON.stringify(value))
    }
  })
})

void describe('tracestate (W3C test suite, TraceContextTest, strict level 2)', () => {
  void test('tracestate without traceparent is discarded', async () => {
    const one = await send([['tracestate', 'foo=1']])
    const two = await send([['tracestate', 'foo=1,bar=2']])
    assert.equal(one.tracestate.size, two.tracestate.size)
    assert.equal(one.tracestate.size, 0)
  })

  void test('tracestate with traceparent is inherited', async () => {
    const { traceparent, tracestate } = await send([
      ['traceparent', TP00],
      ['tracestate', 'foo=1,bar=2'],
    ])
    assert.equal(traceparent.traceId, TRACE)
    assert.deepEqual(
      [...tracestate],
      [
        ['foo', '1'],
        ['bar', '2'],
      ],
    )
  })

  void test('header names: wrong names are ignored, any casing is read', async () => {
    for (const name of ['trace-state', 'trace.state']) {
      assert.equal(
        (
          await send([
            ['traceparent', TP00],
            [name, 'foo=1'],
          ])
        ).tracestate.has('foo'),
        false,
        name,
      )
    }
    for (const name of ['TraceState', 'TrAcEsTaTe', 'TRACESTATE']) {
      assert.equal(
        (
          await send([
            ['traceparent', TP00],
            [name, 'foo=1'],
          ])
        ).tracestate.get('foo'),
        '1',
        name,
      )
    }
  })

  void test('empty tracestate headers are accepted, and not sent on', async () => {
    const empty = await send([
      ['traceparent', TP00],
      ['tracestate', ''],
    ])
    assert.equal(empty.traceparent.traceId, TRACE)
    assert.equal(empty.rawTracestate, '')
    for (const order of [
      ['foo=1', ''],
      ['', 'foo=1'],
    ]) {
      const { tracestate } = await send([['traceparent', TP00], ...order.map((v) => ['tracestate', v] as const)])
      assert.equal(tracestate.get('foo'), '1')
    }
  })

  void test('several tracestate headers are combined in order', async () => {
    const { rawTracestate } = await send([
      ['traceparent', TP00],
      ['tracestate', 'foo=1,bar=2'],
      ['tracestate', 'rojo=1,congo=2'],
      ['tracestate', 'baz=3'],
    ])
    assert.equal(rawTracestate, 'foo=1,bar=2,rojo=1,congo=2,baz=3')
  })

  void test('duplicated keys: the list is inherited, one of the values kept', async () => {
    for (const headers of [['foo=1,foo=1'], ['foo=1,foo=2'], ['foo=1', 'foo=1'], ['foo=1', 'foo=2']]) {
      const { traceparent, rawTracestate } = await send([['traceparent', TP00], ...headers.map((v) => ['tracestate', v] as const)])
      assert.equal(traceparent.traceId, TRACE)
      assert.ok(rawTracestate === 'foo=1' || rawTracestate === 'foo=2', rawTracestate)
    }
  })

  void test('every allowed character, in keys (with and without @) and values', async () => {
    const key = 'abcdefghijklmnopqrstuvwxyz0123456789_-*/'
    const value = [
      [0x20, 0x2b],
      [0x2d, 0x3c],
      [0x3e, 0x7e],
    ]
      .flatMap(([from, to]) => Array.from({ length: to! - from! + 1 }, (_, i) => String.fromCharCode(from! + i)))
      .join('')
    for (const k of [key, `${key}@a-z0-9_-*/`]) {
      // A value may start with spaces: they are part of it.
      const { tracestate } = await send([
        ['traceparent', TP00],
        ['tracestate', `${k}=${value}`],
      ])
      assert.equal(tracestate.get(k), value)
    }
  })

  void test('optional whitespace around members is ignored', async () => {
    for (const header of ['foo=1 \t , \t bar=2, \t baz=3', 'foo=1\t \t,\t \tbar=2,\t \tbaz=3']) {
      const { tracestate } = await send([
        ['traceparent', TP00],
        ['tracestate', header],
      ])
      assert.deepEqual(
        [...tracestate],
        [
          ['foo', '1'],
          ['bar', '2'],
          ['baz', '3'],
        ],
      )
    }
    for (const header of [' foo=1', '\tfoo=1', 'foo=1 ', 'foo=1\t', '\t foo=1 \t']) {
      const { traceparent, tracestate } = await send([
        ['traceparent', TP00],
        ['tracestate', header],
      ])
      assert.equal(traceparent.traceId, TRACE)
      assert.equal(tracestate.get('foo'), '1', JSON.stringify(header))
    }
  })

  void test('an illegal key discards the whole tracestate', async () => {
    for (const header of ['foo =1', 'FOO=1', 'foo.bar=1', '@foo=1,bar=2']) {
      const { rawTracestate } = await send([
        ['traceparent', TP00],
        ['tracestate', header],
      ])
      assert.equal(rawTracestate, '', header)
    }
  })

  void test('keys with @ after the first character follow the key grammar (Level 2) and are kept', async () => {
    for (const [header, key] of [
      ['foo@=1,bar=2', 'foo@'],
      ['foo@@bar=1,bar=2', 'foo@@bar'],
      ['foo@bar@baz=1,bar=2', 'foo@bar@baz'],
      ['tenant@vendor=1,bar=2', 'tenant@vendor'],
    ] as const) {
      const { tracestate } = await send([
        ['traceparent', TP00],
        ['tracestate', header],
      ])
      assert.equal(tracestate.get(key), '1', header)
      assert.equal(tracestate.get('bar'), '2', header)
    }
  })

  void test('32 members are inherited; 33 discard the whole tracestate', async () => {
    const member = (i: number) => `bar${String(i).padStart(2, '0')}=${String(i).padStart(2, '0')}`
    const lines = (n: number) => {
      const all = Array.from({ length: n }, (_, i) => member(i + 1))
      const out: Array<readonly [string, string]> = [['traceparent', TP00]]
      for (let i = 0; i < all.length; i += 10) out.push(['tracestate', all.slice(i, i + 10).join(',')])
      return out
    }
    const kept = await send(lines(32))
    assert.equal(kept.tracestate.get('bar01'), '01')
    assert.equal(kept.tracestate.size, 32)
    const dropped = await send(lines(33))
    assert.equal(dropped.tracestate.has('bar01'), false)
    assert.equal(dropped.rawTracestate, '')
  })

  void test('key length: 256 characters kept, 257 discard the whole tracestate; @ anywhere within the limit', async () => {
    for (const key of ['z'.repeat(256), `${'t'.repeat(241)}@${'v'.repeat(14)}`, `${'t'.repeat(242)}@v`, `t@${'v'.repeat(15)}`]) {
      const { tracestate } = await send([
        ['traceparent', TP00],
        ['tracestate', 'foo=1'],
        ['tracestate', `${key}=1`],
      ])
      assert.equal(tracestate.get('foo'), '1')
      assert.equal(tracestate.get(key), '1')
    }
    const { rawTracestate } = await send([
      ['traceparent', TP00],
      ['tracestate', 'foo=1'],
      ['tracestate', `${'z'.repeat(257)}=1`],
    ])
    assert.equal(rawTracestate, '')
  })

  void test('illegal values discard the whole tracestate', async () => {
    for (const header of ['foo=bar=baz', 'foo=,bar=3', `foo=${'x'.repeat(257)}`, 'foo=a\u00e9']) {
      const { rawTracestate } = await send([
        ['traceparent', TP00],
        ['tracestate', header],
      ])
      assert.equal(rawTracestate, '', header)
    }
  })
})

void describe('the random trace-id flag (W3C test suite, TraceContext2Test)', () => {
  void test('a caller random flag is sent on, the unsampled decision kept', async () => {
    const { traceparent } = await send([['traceparent', `00-${TRACE}-${PARENT}-02`]])
    assert.equal(traceparent.traceId, TRACE)
    assert.notEqual(traceparent.parentId, PARENT)
    assert.equal(traceparent.flags & TRACE_FLAG_RANDOM, TRACE_FLAG_RANDOM)
    assert.equal(traceparent.flags & TRACE_FLAG_SAMPLED, 0)
  })

  void test('sampled and random together stay together; a caller without it stays without', async () => {
    assert.equal((await send([['traceparent', `00-${TRACE}-${PARENT}-03`]])).traceparent.flags, 0x03)
    assert.equal((await send([['traceparent', TP01]])).traceparent.flags, TRACE_FLAG_SAMPLED)
    assert.equal((await send([['traceparent', TP00]])).traceparent.flags, 0)
  })

  void test('a trace the gateway starts has random ids and says so', async () => {
    const { traceparent } = await send([])
    assert.equal(traceparent.flags, TRACE_FLAG_SAMPLED | TRACE_FLAG_RANDOM)
  })

  void test('flags this version does not define are written as zero', async () => {
    assert.equal((await send([['traceparent', `00-${TRACE}-${PARENT}-ff`]])).traceparent.flags, 0x03)
  })
})

void describe('server-timing: trace (W3C Trace Context Level 2 response metric)', () => {
  void test('names the trace, the gateway span and the decision', async () => {
    const kept = await send([['traceparent', `00-${TRACE}-${PARENT}-03`]])
    const match = /^trace;desc=(00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2})$/.exec(kept.serverTiming)
    assert.ok(match, kept.serverTiming)
    const metric = parseTraceparent(match[1])
    assert.equal(metric?.traceId, TRACE)
    assert.equal(metric?.flags, 0x03)
    const dropped = await send([['traceparent', `00-${TRACE}-${PARENT}-02`]])
    assert.equal(parseTraceparent(dropped.serverTiming.slice('trace;desc='.length))?.flags, TRACE_FLAG_RANDOM)
  })
})
