// The gateway's /metrics serves the process's own series (prom-client's defaults: CPU,
// memory, event-loop delay) after its table's; several gateways in one process each
// serve them, and what collects them (an event-loop monitor, a GC observer) does not
// keep a process alive once its gateway is closed.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { startFixture } from './fixture.js'
import { sampleValue } from '../helpers/prometheus.js'

/** The process series the issue asks for, by name: the CPU a process burned, and its loop's longest stall. */
const PROCESS_SERIES = [
  'process_cpu_seconds_total',
  'process_resident_memory_bytes',
  'nodejs_eventloop_lag_max_seconds',
  'nodejs_heap_size_used_bytes',
]

void test("two gateways in one process each serve the process's series beside their own, and a stall shows as the loop's max delay", async () => {
  const one = await startFixture()
  const two = await startFixture()
  try {
    for (const fx of [one, two]) {
      const res = await fetch(`${fx.url}/metrics`)
      assert.equal(res.status, 200)
      const text = await res.text()
      assert.ok(sampleValue(text, 'switchyard_broker_up') === 1, 'the table is still served')
      for (const name of PROCESS_SERIES) assert.ok((sampleValue(text, name) ?? -1) >= 0, `${name} in\n${text.slice(-2000)}`)
      assert.equal(text.match(/^# TYPE process_cpu_seconds_total /gm)?.length, 1, 'each series once')
    }
    // A 200 ms stall between two scrapes is the longest delay the second one reports
    // (once the monitor has ticked after the first: Node times again from that tick).
    await fetch(`${one.url}/metrics`)
    await new Promise((resolve) => setTimeout(resolve, 50))
    const until = performance.now() + 200
    while (performance.now() < until) {
      // Hold the loop.
    }
    await new Promise((resolve) => setTimeout(resolve, 30))
    const max = sampleValue(await (await fetch(`${two.url}/metrics`)).text(), 'nodejs_eventloop_lag_max_seconds') ?? 0
    assert.ok(max >= 0.2, `nodejs_eventloop_lag_max_seconds ${max}`)
  } finally {
    await two.close()
    await one.close()
  }
})

void test('a process that starts a gateway, scrapes it and closes it exits on its own', async () => {
  const fixture = new URL('./fixture.ts', import.meta.url).href
  const script = `
    const { startFixture } = await import(${JSON.stringify(fixture)})
    const fx = await startFixture()
    const text = await (await fetch(fx.url + '/metrics')).text()
    if (!text.includes('nodejs_eventloop_lag_max_seconds')) throw new Error('no process series')
    await fx.close()
    console.log('closed')
  `
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '--eval', script], {
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let out = ''
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
  const code = await exited
  clearTimeout(timer)
  assert.match(out, /^closed$/m, 'the script got through')
  assert.equal(code, 0, 'it exited by itself (a handle left open would keep it alive until the kill)')
})
