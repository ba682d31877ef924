// Connections answered 429 are read in turns (src/gateway/shed-reads.ts): first on a bare
// Node server with raw keep-alive connections, where the test sees when each request is
// read; then on a real gateway whose flow queue sheds a burst, and whose 429s are written a
// few per turn of the loop (refusalPace). Turns are long (hundreds of ms), and only lower
// bounds are asserted on them: a slow machine makes them longer, never shorter.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer, type Server, type ServerResponse } from 'node:http'
import { connect, type AddressInfo, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { startGateway } from '../../src/gateway/index.js'
import {
  SHED_PER_TURN,
  refusalPace,
  shedReads,
  shedReadsOptions,
  type ShedReads,
  type ShedReadsOptions,
} from '../../src/gateway/shed-reads.js'
import { eventually } from '../helpers/eventually.js'
import { sampleValue } from '../helpers/prometheus.js'
import { behindDoor } from './door.js'
import { startFixture } from './fixture.js'

/** A keep-alive connection that sends one request at a time and reads each answer's status. */
class Caller {
  private buffered = ''
  private waiting: ((status: number) => void) | null = null
  private constructor(
    private readonly socket: Socket,
    private readonly host: string,
  ) {
    socket.setEncoding('latin1')
    socket.on('data', (chunk: string) => {
      this.buffered += chunk
      const head = /^HTTP\/1\.1 (\d{3})[^]*?\r\ncontent-length: (\d+)\r\n[^]*?\r\n\r\n/i.exec(this.buffered)
      if (!head || this.buffered.length < head[0].length + Number(head[2])) return
      this.buffered = this.buffered.slice(head[0].length + Number(head[2]))
      const answer = this.waiting
      this.waiting = null
      answer?.(Number(head[1]))
    })
    // Closed before an answer: status 0 (a reset is only that).
    socket.on('error', () => undefined)
    socket.on('close', () => {
      const answer = this.waiting
      this.waiting = null
      answer?.(0)
    })
  }
  /** Connected from `localAddress` (another loopback address is another peer). */
  static async open(port: number, localAddress?: string): Promise<Caller> {
    const socket = connect({ port, host: '127.0.0.1', ...(localAddress === undefined ? {} : { localAddress }) })
    await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject))
    return new Caller(socket, `127.0.0.1:${port}`)
  }
  /** Send `POST path` with `body` (as flow `flow`, for the bare server); resolves with the answer's status. */
  send(path: string, body = '{}', flow = ''): Promise<number> {
    return new Promise((resolve) => {
      this.waiting = resolve
      this.socket.write(
        `POST ${path} HTTP/1.1\r\nhost: ${this.host}\r\nx-flow: ${flow}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`,
      )
    })
  }
  /** Resolves once the server has closed the connection. */
  closed(): Promise<void> {
    return this.socket.closed ? Promise.resolve() : new Promise((resolve) => this.socket.once('close', () => resolve()))
  }
  close(): void {
    this.socket.destroy()
  }
}

/**
 * A bare server wired as the gateway wires it: `/refuse` is answered 429, `/slow-<ms>` 200
 * after that many ms, anything else 200 at once; each read is logged.
 */
async function server(
  options: ShedReadsOptions,
  keepAliveTimeout = 5000,
  newcomers: false | { room: boolean } = false,
): Promise<{ server: Server; port: number; shed: ShedReads; reads: Array<{ path: string; at: number }>; stop(): void }> {
  const shed = shedReads(options)
  const reads: Array<{ path: string; at: number }> = []
  const server = createServer({ keepAliveTimeout }, (req, res) => {
    reads.push({ path: req.url ?? '', at: performance.now() })
    req.resume()
    req.on('end', () => {
      const status = req.url === '/refuse' ? 429 : 200
      const slowMs = Number(/^\/slow-(\d+)$/.exec(req.url ?? '')?.[1] ?? 0)
      setTimeout(() => res.writeHead(status, { 'content-length': 2 }).end('ok'), slowMs)
    })
  })
  server.on('request', (req, res) => {
    const done = shed.begin(req.socket)
    const flow = String(req.headers['x-flow'] ?? '')
    res.once('close', () => done(res.writableFinished ? res.statusCode : 0, flow))
  })
  // New connections take turns too (as the gateway wires it) only where a test asks for it.
  if (newcomers) server.on('connection', (socket: Socket) => shed.arrive(socket, newcomers.room))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const stop = () => {
    shed.close()
    server.close()
  }
  return { server, port: (server.address() as AddressInfo).port, shed, reads, stop }
}

const never = { idleMs: 60_000 }

void test('a burst on connections answered 429 is read `window` at a time, a turn apart; other connections at once', async () => {
  const turnMs = 300
  const s = await server({ window: 2, turnMs, ...never })
  const callers = await Promise.all(Array.from({ length: 8 }, () => Caller.open(s.port)))
  const fresh = await Caller.open(s.port)
  try {
    assert.deepEqual(new Set(await Promise.all(callers.map((c) => c.send('/refuse')))), new Set([429]))
    await eventually('all eight in line', () => s.shed.held() === 8 || undefined)
    const before = s.reads.length
    // All six send again at once; a caller never refused sends too.
    const again = Promise.all(callers.map((c, i) => c.send(`/again-${i}`)))
    assert.equal(await fresh.send('/fresh'), 200)
    assert.deepEqual(new Set(await again), new Set([200]))
    const reads = s.reads.slice(before)
    const held = reads.filter((r) => r.path.startsWith('/again')).map((r) => r.at)
    assert.equal(held.length, 8)
    // Two per turn: the third is read at least a turn after the first, and so on, until no
    // more than the window (2) are left with a 429: those are read at once.
    for (let i = 2; i < held.length - 2; i++) {
      const gap = (held[i] as number) - (held[i - 2] as number)
      assert.ok(
        gap >= turnMs * 0.9,
        `reads ${i - 2} and ${i} of the held burst were ${gap.toFixed(0)} ms apart, under a turn (${turnMs} ms)`,
      )
    }
    // The caller never refused was read before the burst's last turn.
    const freshAt = reads.find((r) => r.path === '/fresh')?.at as number
    assert.ok(freshAt < (held[4] as number), 'the fresh caller waited behind the held burst')
    // Served, they are out of line: nothing is held.
    assert.equal(s.shed.held(), 0)
  } finally {
    for (const c of [...callers, fresh]) c.close()
    s.stop()
  }
})

void test('a request waiting in line is read idleMs after its 429 at the latest, turns or not', async () => {
  // Window 0 and turns a minute long: only leaving the turns at idleMs reads it.
  const idleMs = 600
  const s = await server({ window: 0, turnMs: 60_000, idleMs })
  const caller = await Caller.open(s.port)
  try {
    const refusedAt = performance.now()
    assert.equal(await caller.send('/refuse'), 429)
    assert.equal(s.shed.held(), 1)
    await new Promise((resolve) => setTimeout(resolve, 100))
    assert.equal(await caller.send('/waited'), 200)
    const readAt = s.reads.find((r) => r.path === '/waited')?.at as number
    assert.ok(readAt - refusedAt >= idleMs * 0.9, `read ${(readAt - refusedAt).toFixed(0)} ms after its 429, before idleMs (${idleMs})`)
    assert.equal(s.shed.held(), 0)
  } finally {
    caller.close()
    s.stop()
  }
})

void test("flows take turns: one connection of another flow is read at the next turn, not behind a flow's long line", async () => {
  const turnMs = 200
  const s = await server({ window: 1, turnMs, ...never })
  const flood = await Promise.all(Array.from({ length: 6 }, () => Caller.open(s.port)))
  const other = await Caller.open(s.port)
  try {
    await Promise.all(flood.map((c) => c.send('/refuse', '{}', 'flood')))
    assert.equal(await other.send('/refuse', '{}', 'other'), 429)
    await eventually('seven in line', () => s.shed.held() === 7 || undefined)
    const before = s.reads.length
    const floodAgain = Promise.all(flood.map((c) => c.send('/again', '{}', 'flood')))
    const otherAgain = other.send('/other', '{}', 'other')
    assert.equal(await otherAgain, 200)
    assert.deepEqual(await floodAgain, [200, 200, 200, 200, 200, 200])
    const reads = s.reads.slice(before)
    const floodAt = reads.filter((r) => r.path === '/again').map((r) => r.at)
    const otherAt = reads.find((r) => r.path === '/other')?.at as number
    // One read per turn of 200 ms: the other flow's request came before the flood's third.
    assert.ok(
      otherAt < (floodAt[2] as number),
      `the other flow waited behind ${floodAt.filter((at) => at < otherAt).length} of the flood's`,
    )
  } finally {
    for (const c of [...flood, other]) c.close()
    s.stop()
  }
})

void test('with no more than `window` connections answered 429 nothing is paused', async () => {
  // Turns a minute long: a paused connection would not be read within the test.
  const s = await server({ window: 3, turnMs: 60_000, ...never })
  const callers = await Promise.all(Array.from({ length: 3 }, () => Caller.open(s.port)))
  try {
    assert.deepEqual(await Promise.all(callers.map((c) => c.send('/refuse'))), [429, 429, 429])
    assert.equal(s.shed.held(), 0)
    assert.deepEqual(await Promise.all(callers.map((c) => c.send('/again'))), [200, 200, 200])
  } finally {
    for (const c of callers) c.close()
    s.stop()
  }
})

void test('a connection that sends nothing for idleMs after its 429 leaves the line; one that closes leaves it on its turn', async () => {
  const s = await server({ window: 1, turnMs: 20, idleMs: 600 })
  const quiet = await Promise.all([Caller.open(s.port), Caller.open(s.port)])
  const gone = await Caller.open(s.port)
  try {
    for (const c of [...quiet, gone]) assert.equal(await c.send('/refuse'), 429)
    await eventually('all three in line', () => s.shed.held() === 3 || undefined)
    // A paused connection sees its caller's close when it is next read.
    gone.close()
    await eventually('the closed one out of line', () => s.shed.held() === 2 || undefined)
    await eventually('the quiet ones out of line', () => s.shed.held() === 0 || undefined, 5000)
    // Out of line, they are read as any connection: turns a minute long would not serve them.
    for (const c of quiet) assert.equal(await c.send('/after'), 200)
  } finally {
    for (const c of quiet) c.close()
    s.stop()
  }
})

void test('a request pipelined behind a refused one is served whole, its body sent after the refusal', async () => {
  // Window 0: every connection with a 429 is paused, and turns are a minute long.
  const s = await server({ window: 0, turnMs: 60_000, ...never })
  const socket = connect(s.port, '127.0.0.1')
  try {
    await new Promise((resolve) => socket.once('connect', resolve))
    let text = ''
    socket.setEncoding('latin1')
    socket.on('data', (chunk: string) => (text += chunk))
    // The refused request, then the next one's head in the same write; its body only once the 429 is in.
    socket.write(
      'POST /refuse HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: 2\r\n\r\n{}' +
        'POST /next HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: 5\r\n\r\n',
    )
    await eventually('the 429', () => text.includes('429') || undefined)
    socket.write('hello')
    await eventually('the 200', () => (text.match(/HTTP\/1\.1 200/) ? true : undefined), 5000)
    assert.equal(s.shed.held(), 0)
  } finally {
    socket.destroy()
    s.stop()
  }
})

void test('close() resumes every connection in line: its waiting request is read', async () => {
  const s = await server({ window: 0, turnMs: 60_000, ...never })
  const caller = await Caller.open(s.port)
  try {
    assert.equal(await caller.send('/refuse'), 429)
    await eventually('in line', () => s.shed.held() === 1 || undefined)
    const next = caller.send('/next')
    await new Promise((resolve) => setTimeout(resolve, 100))
    assert.equal(s.reads.filter((r) => r.path === '/next').length, 0, 'a connection in line was read before its turn')
    s.shed.close()
    assert.equal(await next, 200)
    assert.equal(s.shed.held(), 0)
  } finally {
    caller.close()
    s.server.close()
  }
})

void test('connections released from the turns after a long stall of the loop are read, not closed as idle by the keep-alive timeout', async () => {
  // Window 0 and turns a minute long: every refused connection waits in line, its next
  // request unread in the kernel, until it leaves the turns idleMs after its 429. The loop
  // then stalls past Node's keep-alive timeout (keep-alive 1 s, and Node's extra second):
  // the sweep that releases them and Node's timeout are due in the same pass of timers.
  const keepAlive = 1000
  const s = await server({ window: 0, turnMs: 60_000, idleMs: 500, keepAliveMs: keepAlive }, keepAlive)
  const callers = await Promise.all(Array.from({ length: 20 }, () => Caller.open(s.port)))
  const slow = await Caller.open(s.port)
  const quiet = await Caller.open(s.port)
  const all = [...callers, slow, quiet]
  try {
    assert.deepEqual(new Set(await Promise.all(all.map((c) => c.send('/refuse')))), new Set([429]))
    // All in line, none released yet: the stall below begins before their release.
    assert.equal(s.shed.held(), all.length)
    // Written now, into the server's kernel buffers (loopback), while their connections are paused.
    const again = callers.map((c, i) => c.send(`/again-${i}`))
    // One served longer than the keep-alive timeout once it is read.
    const slowAgain = slow.send(`/slow-${2 * keepAlive}`)
    // The loop stalls, without burning a core, 2.5 s: Node's keep-alive timeout (1 s + 1 s) is due when it ends.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2500)
    assert.deepEqual(
      await Promise.all(again),
      Array.from({ length: callers.length }, () => 200),
    )
    // Read right after its release and served 2 s: not cut by a timeout meant for an idle connection.
    assert.equal(await slowAgain, 200)
    // No connection lives forever: the one that sent nothing is closed as idle, later.
    await quiet.closed()
  } finally {
    for (const c of all) c.close()
    s.stop()
  }
})

void test('the turns end before the keep-alive and headers timeouts', () => {
  for (const keepAlive of [1000, 5000, 65_000]) {
    const o = shedReadsOptions({ keepAliveTimeoutMs: keepAlive, headersTimeoutMs: 10_000 })
    assert.ok(o.idleMs > 0 && o.idleMs <= keepAlive - Math.min(1000, keepAlive / 2), `keep-alive ${keepAlive}: ${JSON.stringify(o)}`)
    // Let go of after a stall past it, a connection gets the server's keep-alive timeout again.
    assert.equal(o.keepAliveMs, keepAlive)
  }
  // A new connection's headers timeout runs from when it is accepted: out of the turns by half of it.
  assert.equal(shedReadsOptions({ keepAliveTimeoutMs: 5000, headersTimeoutMs: 1000 }).idleMs, 500)
})

void test('past `window` new connections within a turn, the rest are read in turns; a connection already open is read at once', async () => {
  const turnMs = 500
  const s = await server({ window: 2, turnMs, ...never }, 5000, { room: true })
  const old = await Caller.open(s.port)
  const burst: Caller[] = []
  try {
    assert.equal(await old.send('/old'), 200)
    // A turn later the count of new connections begins afresh: eight open at once.
    await new Promise((resolve) => setTimeout(resolve, turnMs * 1.2))
    burst.push(...(await Promise.all(Array.from({ length: 8 }, () => Caller.open(s.port)))))
    const first = Promise.all(burst.map((c, i) => c.send(`/new-${i}`)))
    // The connection opened before the burst, sending while the burst waits its turns.
    assert.equal(await old.send('/old-again'), 200)
    assert.deepEqual(new Set(await first), new Set([200]))
    const reads = s.reads.filter((r) => r.path.startsWith('/new-')).map((r) => r.at)
    assert.equal(reads.length, 8)
    // Two at once, then two per turn, until no more than the window (2) are left: those are read at once.
    for (let i = 2; i < reads.length - 2; i++) {
      const gap = (reads[i] as number) - (reads[i - 2] as number)
      assert.ok(gap >= turnMs * 0.9, `first reads ${i - 2} and ${i} of the new connections were ${gap.toFixed(0)} ms apart, under a turn`)
    }
    const oldAt = s.reads.find((r) => r.path === '/old-again')?.at as number
    assert.ok(oldAt < (reads[4] as number), 'the connection already open waited behind the new ones')
    // Each new connection left the turns with its first request, for good.
    assert.equal(s.shed.held(), 0)
    assert.deepEqual(new Set(await Promise.all(burst.map((c) => c.send('/next')))), new Set([200]))
    assert.equal(s.shed.held(), 0)
  } finally {
    for (const c of [old, ...burst]) c.close()
    s.stop()
  }
})

void test('a new connection that sends nothing on its turn leaves the turns: silent ones do not hold the line', async () => {
  // Window 1, turns of 100 ms, never idle: only a turn with nothing read lets them go.
  const s = await server({ window: 1, turnMs: 100, ...never }, 5000, { room: true })
  const silent = await Promise.all(Array.from({ length: 5 }, () => Caller.open(s.port)))
  try {
    await eventually('four waiting', () => s.shed.held() === 4 || undefined)
    await eventually('none waiting after their turns', () => s.shed.held() === 0 || undefined)
    assert.deepEqual(new Set(await Promise.all(silent.map((c) => c.send('/late')))), new Set([200]))
  } finally {
    for (const c of silent) c.close()
    s.stop()
  }
})

void test("new connections wait in their peer's line: another peer's is read at the next turn, not behind a burst", async () => {
  // Window 2, turns of 500 ms: one peer opens twelve at once, another peer one just after.
  const s = await server({ window: 2, turnMs: 500, ...never }, 5000, { room: true })
  const burst: Caller[] = []
  let other: Caller | undefined
  try {
    burst.push(...(await Promise.all(Array.from({ length: 12 }, () => Caller.open(s.port, '127.0.0.2')))))
    other = await Caller.open(s.port, '127.0.0.3')
    await eventually('eleven waiting', () => s.shed.held() === 11 || undefined)
    const burstSent = Promise.all(burst.map((c, i) => c.send(`/burst-${i}`)))
    assert.equal(await other.send('/other'), 200)
    assert.deepEqual(new Set(await burstSent), new Set([200]))
    const burstAt = s.reads.filter((r) => r.path.startsWith('/burst-')).map((r) => r.at)
    const otherAt = s.reads.find((r) => r.path === '/other')?.at as number
    // Two were read at once; one a turn from each line after: the other peer's in the first turn.
    assert.ok(otherAt < (burstAt[3] as number), `the other peer waited behind ${burstAt.filter((at) => at < otherAt).length} of the burst`)
  } finally {
    for (const c of [...burst, ...(other ? [other] : [])]) c.close()
    s.stop()
  }
})

void test('a new connection waiting its turn that sends nothing leaves the turns idleMs after it was accepted', async () => {
  // Window 0: every new connection waits its turn, and turns are a minute long.
  const idleMs = 600
  const s = await server({ window: 0, turnMs: 60_000, idleMs }, 5000, { room: true })
  const openedAt = performance.now()
  const caller = await Caller.open(s.port)
  try {
    await eventually('in the turns', () => s.shed.held() === 1 || undefined)
    await new Promise((resolve) => setTimeout(resolve, 100))
    assert.equal(await caller.send('/late'), 200)
    const readAt = s.reads.find((r) => r.path === '/late')?.at as number
    assert.ok(readAt - openedAt >= idleMs * 0.9, `read ${(readAt - openedAt).toFixed(0)} ms after it was opened, before idleMs (${idleMs})`)
    assert.equal(s.shed.held(), 0)
  } finally {
    caller.close()
    s.stop()
  }
})

void test('near the connection cap no new connection waits its turn, and those waiting are let go', async () => {
  // Window 2 and turns a minute long: a connection waiting its turn would not be read within the test.
  const room = { room: true }
  const s = await server({ window: 2, turnMs: 60_000, ...never }, 5000, room)
  const callers: Caller[] = []
  try {
    callers.push(...(await Promise.all(Array.from({ length: 8 }, () => Caller.open(s.port)))))
    await eventually('six waiting', () => s.shed.held() === 6 || undefined)
    // The cap is near: the next connection is read at once, and so are the six.
    room.room = false
    callers.push(await Caller.open(s.port))
    await eventually('none waiting', () => s.shed.held() === 0 || undefined)
    assert.deepEqual(new Set(await Promise.all(callers.map((c, i) => c.send(`/near-${i}`)))), new Set([200]))
  } finally {
    for (const c of callers) c.close()
    s.stop()
  }
})

/** A gateway on the fixture whose `echo.say` flow has one place and no queue; the broker behind a door. */
async function shedGateway() {
  const fx = await startFixture({ signingKey: null })
  const { broker, door } = behindDoor(fx.broker, (text) => text.startsWith('hold'))
  const gateway = await startGateway({
    registry: fx.registry,
    broker,
    port: 0,
    tokens: null,
    signingKey: null,
    admission: { concurrency: 8, perFlow: 1, queuePerFlow: 0 },
  })
  const held = async () => sampleValue(await (await fetch(`${gateway.url}/metrics`)).text(), 'switchyard_gateway_connections_held')
  const close = async () => {
    door.open()
    await gateway.close()
    await fx.close()
  }
  return { gateway, door, held, port: Number(new URL(gateway.url).port), close }
}

const say = (text: string) => JSON.stringify({ text })

/** Twelve of thirteen callers refused: the first holds the flow's only place at the door, then the door opens and it is served. */
async function shedBurst(g: Awaited<ReturnType<typeof shedGateway>>, callers: readonly Caller[]): Promise<number[]> {
  const first = callers[0]?.send('/v1/workflows/echo.say/run', say('hold-0'))
  await eventually('the first at the door', () => g.door.held.length === 1 || undefined)
  const refused = await Promise.all(callers.slice(1).map((c, i) => c.send('/v1/workflows/echo.say/run', say(`hold-${i + 1}`))))
  assert.equal(await g.held(), 12)
  g.door.open()
  assert.equal(await first, 200)
  return refused
}

void test('gateway: the connections of a shed burst are held (switchyard_gateway_connections_held) and served again after', async () => {
  const g = await shedGateway()
  const callers = await Promise.all(Array.from({ length: 13 }, () => Caller.open(g.port)))
  try {
    // One at the door holds the flow's only place: the other twelve are refused at once, more than the window of 8.
    assert.deepEqual(new Set(await shedBurst(g, callers)), new Set([429]))
    // Their next requests are read on their turns and served.
    const again = await Promise.all(callers.slice(1).map((c, i) => c.send('/v1/workflows/echo.say/run', say(`again-${i}`))))
    assert.deepEqual(new Set(again), new Set([200]))
    assert.equal(await g.held(), 0)
  } finally {
    for (const c of callers) c.close()
    await g.close()
  }
})

void test('gateway: close() serves the requests that connections in line had sent', async () => {
  const g = await shedGateway()
  const callers = await Promise.all(Array.from({ length: 13 }, () => Caller.open(g.port)))
  try {
    await shedBurst(g, callers)
    // Each in line sends again, and the gateway closes before their turns.
    const again = callers.slice(1).map((c, i) => c.send('/v1/workflows/echo.say/run', say(`last-${i}`)))
    await g.close()
    assert.deepEqual(
      await Promise.all(again),
      Array.from({ length: 12 }, () => 200),
    )
  } finally {
    for (const c of callers) c.close()
    await g.close()
  }
})

/** Counts turns of the event loop (one setImmediate per turn) until stopped. */
function turnCounter() {
  let turn = 0
  let ticking = true
  const tick = (): void => {
    turn += 1
    if (ticking) setImmediate(tick)
  }
  setImmediate(tick)
  return {
    now: () => turn,
    stop: () => {
      ticking = false
    },
  }
}

const live = () => false

void test('refusalPace: at most perTurn waiters go on in each turn of the event loop, the rest in the turns after', async () => {
  const wait = refusalPace(2, 100)
  const turns = turnCounter()
  const wentOn = await Promise.all(Array.from({ length: 7 }, () => wait('flood', live).then(() => turns.now())))
  turns.stop()
  const perTurn = new Map<number, number>()
  for (const t of wentOn) perTurn.set(t, (perTurn.get(t) ?? 0) + 1)
  assert.deepEqual([...perTurn.values()], [2, 2, 2, 1], `turns: ${wentOn.join(' ')}`)
  // In order, first come first served.
  assert.deepEqual(
    wentOn,
    [...wentOn].sort((a, b) => a - b),
  )
})

void test("refusalPace: flows take turns, a caller's refusal is not behind another's flood", async () => {
  const wait = refusalPace(1, 100)
  const turns = turnCounter()
  const flood = Array.from({ length: 6 }, () => wait('flood', live).then(() => turns.now()))
  const other = await wait('other', live).then(() => turns.now())
  const floodTurns = await Promise.all(flood)
  turns.stop()
  // One a turn, flows alternating: the other's came second, not seventh.
  assert.ok(other <= (floodTurns[1] as number), `the other flow went on at turn ${other}; the flood's at ${floodTurns.join(' ')}`)
})

void test('refusalPace: past maxWaiting a refusal goes on at once; one whose caller has gone takes no place', async () => {
  const wait = refusalPace(1, 3)
  const turns = turnCounter()
  try {
    const order: string[] = []
    const waiting = Array.from({ length: 3 }, (_, i) => wait('flood', live).then(() => order.push(`waited-${i}`)))
    // The line is full: the fourth is not kept waiting (nothing of it stays in memory).
    await wait('flood', live).then(() => order.push('at once'))
    await Promise.all(waiting)
    assert.deepEqual(order, ['at once', 'waited-0', 'waited-1', 'waited-2'])
    // Three whose callers left, then a live one, one place a turn: the live one goes on in the same turn as them.
    const roomy = refusalPace(1, 100)
    const at = await Promise.all([
      ...Array.from({ length: 3 }, () => roomy('flood', () => true).then(() => turns.now())),
      roomy('flood', live).then(() => turns.now()),
    ])
    assert.equal(new Set(at).size, 1, `turns: ${at.join(' ')}`)
  } finally {
    turns.stop()
  }
})

void test('gateway: a burst of refusals is answered at most SHED_PER_TURN per turn of the event loop', async () => {
  const g = await shedGateway()
  const holder = await Caller.open(g.port)
  const flood = connect(g.port, '127.0.0.1')
  // When each 429 is written whole, by turn of the loop (Node's own diagnostics channel).
  const turns = turnCounter()
  const perTurn = new Map<number, number>()
  const finished = (message: unknown): void => {
    if ((message as { response: ServerResponse }).response.statusCode !== 429) return
    perTurn.set(turns.now(), (perTurn.get(turns.now()) ?? 0) + 1)
  }
  subscribe('http.server.response.finish', finished)
  try {
    await new Promise((resolve) => flood.once('connect', resolve))
    let text = ''
    flood.setEncoding('latin1')
    flood.on('data', (chunk: string) => (text += chunk))
    const first = holder.send('/v1/workflows/echo.say/run', say('hold-0'))
    await eventually('the first at the door', () => g.door.held.length === 1 || undefined)
    // 24 requests pipelined in one write: read in one pass of the loop however loaded the
    // machine (separate connections may come in over several), each refused there (the
    // flow's one place is taken, it has no queue), and answered a few per turn after.
    const body = say('flood')
    const request = `POST /v1/workflows/echo.say/run HTTP/1.1\r\nhost: 127.0.0.1:${g.port}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`
    flood.write(request.repeat(24))
    await eventually('24 answers', () => text.match(/HTTP\/1\.1 \d{3}/g)?.length === 24 || undefined, 10_000)
    assert.deepEqual(new Set(text.match(/HTTP\/1\.1 \d{3}/g)), new Set(['HTTP/1.1 429']))
    const counts = [...perTurn.values()]
    assert.equal(
      counts.reduce((a, b) => a + b, 0),
      24,
    )
    assert.ok(Math.max(...counts) <= SHED_PER_TURN, `429s written per turn: ${counts.join(' ')}`)
    g.door.open()
    assert.equal(await first, 200)
  } finally {
    unsubscribe('http.server.response.finish', finished)
    turns.stop()
    holder.close()
    flood.destroy()
    await g.close()
  }
})

// A burst from another process (another machine's callers): it opens `count` connections,
// touches `flag` once all are open (in the gateway's accept queue), then, told to go (a
// line on stdin), sends a probe on each and prints each answer's status line.
const BURST_CALLER = `
const { connect } = require('node:net')
const { writeFileSync } = require('node:fs')
const [port, count, flag] = process.argv.slice(1)
const sockets = []
const answers = []
for (let i = 0; i < Number(count); i++) {
  const socket = connect(Number(port), '127.0.0.1')
  sockets.push(socket)
  let text = ''
  socket.setEncoding('latin1')
  socket.on('data', (chunk) => (text += chunk))
  socket.on('error', () => undefined)
  socket.once('connect', () => {
    if (sockets.every((s) => !s.connecting)) writeFileSync(flag, '')
  })
  socket.on('close', () => {
    answers.push(text.slice(0, 15))
    if (answers.length === Number(count)) console.log(answers.join('\\n'))
  })
}
process.stdin.once('data', () => {
  for (const socket of sockets) socket.write('GET /healthz HTTP/1.1\\r\\nhost: 127.0.0.1:' + port + '\\r\\nconnection: close\\r\\n\\r\\n')
})
`

void test('gateway: past a few new connections per turn, the rest are paused before their first request is read; all are served', async () => {
  const g = await shedGateway()
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-burst-'))
  const flag = join(dir, 'written')
  // Per connection, in the order accepted: whether it was paused before its first request was read.
  const pausedFirst: boolean[] = []
  const begun = new WeakSet<Socket>()
  const onAccept = (message: unknown): void => {
    const socket = (message as { socket: Socket }).socket
    const at = pausedFirst.push(false) - 1
    socket.once('pause', () => {
      if (!begun.has(socket)) pausedFirst[at] = true
    })
  }
  const onRequest = (message: unknown): void => void begun.add((message as { socket: Socket }).socket)
  subscribe('net.server.socket', onAccept)
  subscribe('http.server.request.start', onRequest)
  const size = 200
  try {
    const caller = spawn(process.execPath, ['-e', BURST_CALLER, String(g.port), String(size), flag], { stdio: ['pipe', 'pipe', 'inherit'] })
    let out = ''
    caller.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk))
    const exited = new Promise((resolve) => caller.once('exit', resolve))
    // The gateway's loop is held (as a busy one would be) until every connection is open:
    // then they are accepted back to back, far more than a few per turn.
    const until = performance.now() + 20_000
    while (!existsSync(flag) && performance.now() < until) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10)
    assert.ok(existsSync(flag), 'the burst did not connect within 20 s')
    await eventually('all accepted', () => pausedFirst.length === size || undefined)
    // Then each sends its first request: those paused are read on their turns.
    caller.stdin.end('go\n')
    await exited
    const answers = out.trim().split('\n')
    assert.equal(answers.length, size)
    assert.deepEqual(new Set(answers), new Set(['HTTP/1.1 200 OK']))
    assert.equal(pausedFirst.length, size)
    // The first few of the burst were read at once, and some later ones waited their turn.
    assert.deepEqual(
      pausedFirst.slice(0, SHED_PER_TURN),
      Array.from({ length: SHED_PER_TURN }, () => false),
    )
    assert.ok(pausedFirst.some(Boolean), 'no connection of the burst waited its turn')
    assert.equal(await g.held(), 0)
  } finally {
    unsubscribe('net.server.socket', onAccept)
    unsubscribe('http.server.request.start', onRequest)
    await rm(dir, { recursive: true, force: true })
    await g.close()
  }
})
