// SECURITY.md, DNS rebinding: a web page whose DNS name the attacker re-points to
// 127.0.0.1 is same-origin with a gateway on loopback. The gateway answers only a Host
// that names it (host-check.ts): localhost, its bind address or an IP, on its port, and
// the names an operator lists; anything else gets 421 before any route runs. A gateway
// bound to 0.0.0.0 checks only when names are listed (a proxy's names are unknown to it).
//
// Real parts: the gateway as `dev` starts it (no tokens) on loopback, real HTTP requests
// with the Host a browser would send; and a real Chromium whose resolver maps the
// attacker's name to 127.0.0.1 (the rebinding step), as the outside review did.
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { request } from 'node:http'
import { after, before, describe, test } from 'node:test'
import { chromium } from 'playwright-core'
import { startWorkerHttp } from '../../src/data/worker/http.js'
import { workerAllowedHosts } from '../../src/data/worker/index.js'
import { allowedHostsFromEnv } from '../../src/gateway/index.js'
import { hostCheck } from '../../src/control/index.js'
import { startFixture, type Fixture } from '../gateway/fixture.js'

const CHROMIUM = process.env.SWITCHYARD_CHROMIUM ?? '/usr/bin/chromium'

/** One request to 127.0.0.1:port carrying `host` as its Host header. */
function call(port: number, host: string, path = '/v1/runs', method = 'GET', body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method, headers: { host, ...(body === undefined ? {} : { 'content-type': 'application/json' }) } },
      (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => (text += chunk))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }))
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

/** How many runs the gateway lists (asked under its own name). */
async function runCount(port: number): Promise<number> {
  const list = await call(port, `127.0.0.1:${port}`)
  return (JSON.parse(list.body) as { runs: unknown[] }).runs.length
}

let open: Fixture
let listed: Fixture
let anyHost: Fixture
let wildcard: Fixture
let wildcardListed: Fixture

before(async () => {
  open = await startFixture({ tokens: null })
  listed = await startFixture({ tokens: null, allowedHosts: ['switchyard.internal', 'proxy.example:8443'] })
  anyHost = await startFixture({ tokens: null, allowedHosts: ['*'] })
  wildcard = await startFixture({ tokens: null, host: '0.0.0.0' })
  wildcardListed = await startFixture({ tokens: null, host: '0.0.0.0', allowedHosts: ['switchyard.internal'] })
})
after(async () => {
  for (const fx of [open, listed, anyHost, wildcard, wildcardListed]) await fx.close()
})

void test('an open loopback gateway refuses a Host naming another site with 421, on every route, and starts nothing', async () => {
  const port = open.gateway.port
  const before = await runCount(port)
  const evil = `attacker.example:${port}`
  const listing = await call(port, evil)
  assert.equal(listing.status, 421)
  const problem = JSON.parse(listing.body) as { code: string; detail: string; title: string }
  assert.equal(problem.code, 'MISDIRECTED_REQUEST')
  assert.equal(problem.title, 'Misdirected Request')
  assert.match(problem.detail, /Host 'attacker\.example:\d+'.*DNS rebinding.*SWITCHYARD_GATEWAY_ALLOWED_HOSTS/)
  assert.equal((await call(port, evil, '/v1/workflows/echo.say/run', 'POST', '{"text":"by the attacker"}')).status, 421)
  assert.equal((await call(port, evil, '/healthz')).status, 421)
  assert.equal((await call(port, evil, '/no/such/route')).status, 421, 'not even which routes exist')
  // The same name without a port, or another port of localhost, is no name of this gateway either.
  assert.equal((await call(port, 'attacker.example')).status, 421)
  assert.equal((await call(port, `localhost:${port === 1 ? 2 : 1}`)).status, 421)
  assert.equal(await runCount(port), before, 'the refused POST started no run')
})

void test("the gateway's own names on its port are answered: localhost, 127.0.0.1, [::1], any IP", async () => {
  const port = open.gateway.port
  for (const host of [`localhost:${port}`, `LOCALHOST:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, `10.1.2.3:${port}`]) {
    assert.equal((await call(port, host)).status, 200, host)
  }
  const ran = await call(port, `localhost:${port}`, '/v1/workflows/echo.say/run', 'POST', '{"text":"hi"}')
  assert.equal(ran.status, 200)
})

void test('allowedHosts adds names (any port, or the one given); * answers any Host', async () => {
  const port = listed.gateway.port
  assert.equal((await call(port, 'switchyard.internal')).status, 200)
  assert.equal((await call(port, `switchyard.internal:${port}`)).status, 200)
  assert.equal((await call(port, 'proxy.example:8443')).status, 200)
  assert.equal((await call(port, 'proxy.example:9000')).status, 421)
  assert.equal((await call(port, `attacker.example:${port}`)).status, 421)
  assert.equal((await call(port, `localhost:${port}`)).status, 200, 'the defaults stay')
  assert.equal((await call(anyHost.gateway.port, `attacker.example:${anyHost.gateway.port}`)).status, 200)
})

void test('a gateway bound to 0.0.0.0 answers any Host unless names are listed; then it checks, its own URL included', async () => {
  assert.equal((await call(wildcard.gateway.port, 'api.example.com')).status, 200)
  const port = wildcardListed.gateway.port
  assert.equal((await call(port, 'api.example.com')).status, 421)
  assert.equal((await call(port, 'switchyard.internal')).status, 200)
  // Its workers send spans to its URL, http://0.0.0.0:PORT.
  assert.equal(new URL(wildcardListed.url).host, `0.0.0.0:${port}`)
  assert.equal((await call(port, `0.0.0.0:${port}`)).status, 200)
})

void test('SWITCHYARD_GATEWAY_ALLOWED_HOSTS: comma-separated; a malformed entry is refused naming the variable', () => {
  assert.equal(allowedHostsFromEnv({}), undefined)
  assert.deepEqual(allowedHostsFromEnv({ SWITCHYARD_GATEWAY_ALLOWED_HOSTS: ' a.example , b.example:8443,, [::1]:7070 ' }), [
    'a.example',
    'b.example:8443',
    '[::1]:7070',
  ])
  assert.deepEqual(allowedHostsFromEnv({ SWITCHYARD_GATEWAY_ALLOWED_HOSTS: '*' }), ['*'])
  assert.throws(
    () => hostCheck('127.0.0.1', ['gw.example', 'http://gw.example']),
    /allowedHosts: 'http:\/\/gw\.example' is not a host name/,
  )
  for (const bad of ['https://a.example', 'a.example/x', 'a.example:99999', '[nope]']) {
    assert.throws(
      () => allowedHostsFromEnv({ SWITCHYARD_GATEWAY_ALLOWED_HOSTS: bad }),
      /SWITCHYARD_GATEWAY_ALLOWED_HOSTS: '.*' is not a host name/,
    )
  }
})

void test("a worker's /healthz and /metrics answer by the same rule: 421 for another site's name, on loopback", async () => {
  const serve = (host: string) =>
    startWorkerHttp({
      host,
      port: 0,
      metrics: () => Promise.resolve('switchyard_worker_runs_in_flight 0\n'),
      beforeScrape: () => Promise.resolve(),
      health: () => ({ status: 'ok' }),
    })
  const loopback = await serve('127.0.0.1')
  const everywhere = await serve('0.0.0.0')
  try {
    const port = Number(new URL(loopback.url).port)
    const refused = await call(port, `attacker.example:${port}`, '/metrics')
    assert.equal(refused.status, 421)
    assert.match(refused.body, /Host 'attacker\.example:\d+'.*DNS rebinding/)
    assert.doesNotMatch(refused.body, /switchyard_worker/)
    assert.equal((await call(port, 'attacker.example', '/healthz')).status, 421)
    assert.equal((await call(port, `localhost:${port === 1 ? 2 : 1}`, '/metrics')).status, 421)
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `10.1.2.3:${port}`]) {
      assert.equal((await call(port, host, '/metrics')).status, 200, host)
    }
    const anyPort = Number(new URL(everywhere.url).port)
    assert.equal((await call(anyPort, 'prometheus.scrape.example', '/metrics')).status, 200, 'bound to 0.0.0.0: any Host')
  } finally {
    await loopback.close()
    await everywhere.close()
  }
})

void test('SWITCHYARD_WORKER_ALLOWED_HOSTS: a worker answers the names listed (an SSH tunnel, a DNS name), and still refuses the rest', async () => {
  assert.equal(workerAllowedHosts({}), undefined)
  assert.deepEqual(workerAllowedHosts({ SWITCHYARD_WORKER_ALLOWED_HOSTS: ' localhost:9999, metrics.example ' }), [
    'localhost:9999',
    'metrics.example',
  ])
  assert.throws(
    () => workerAllowedHosts({ SWITCHYARD_WORKER_ALLOWED_HOSTS: 'metrics.example, http://x' }),
    /SWITCHYARD_WORKER_ALLOWED_HOSTS: 'http:\/\/x' is not a host name/,
  )
  const worker = await startWorkerHttp({
    host: '127.0.0.1',
    port: 0,
    metrics: () => Promise.resolve('switchyard_worker_runs_in_flight 0\n'),
    beforeScrape: () => Promise.resolve(),
    health: () => ({ status: 'ok' }),
    allowedHosts: ['localhost:9999', 'metrics.example'],
  })
  try {
    const port = Number(new URL(worker.url).port)
    // `ssh -L 9999:127.0.0.1:PORT`: the browser or Prometheus names the tunnel's end.
    assert.equal((await call(port, 'localhost:9999', '/metrics')).status, 200)
    assert.equal((await call(port, 'metrics.example:443', '/metrics')).status, 200)
    assert.equal((await call(port, `localhost:${port}`, '/healthz')).status, 200)
    const refused = await call(port, `attacker.example:${port}`, '/metrics')
    assert.equal(refused.status, 421)
    assert.match(refused.body, /list the name in SWITCHYARD_WORKER_ALLOWED_HOSTS/)
    assert.equal((await call(port, 'localhost:9998', '/metrics')).status, 421)
  } finally {
    await worker.close()
  }
})

interface HostVector {
  readonly description: string
  readonly bind: string
  readonly allowed: string[] | null
  readonly port: number
  readonly answered: (string | null)[]
  readonly refused: (string | null)[]
}

void test('spec/vectors/host-names.json: the rule answers every case as listed (python/tests/test_http.py reads the same file)', () => {
  const vectors = JSON.parse(readFileSync(new URL('../../spec/vectors/host-names.json', import.meta.url), 'utf8')) as {
    cases: HostVector[]
  }
  assert.ok(vectors.cases.length >= 10)
  for (const v of vectors.cases) {
    const check = hostCheck(v.bind, v.allowed ?? undefined)
    const answers = (host: string | null) => check === null || check(host ?? undefined, { localPort: v.port })
    for (const host of v.answered) assert.equal(answers(host), true, `${v.description}: ${JSON.stringify(host)} answered`)
    for (const host of v.refused) assert.equal(answers(host), false, `${v.description}: ${JSON.stringify(host)} refused`)
  }
})

void describe('in Chromium, a page rebound to 127.0.0.1', { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed` }, () => {
  void test('reads no run and starts none', async () => {
    const port = open.gateway.port
    const before = await runCount(port)
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--host-resolver-rules=MAP attacker.example 127.0.0.1'],
    })
    try {
      const page = await browser.newPage()
      const landing = await page.goto(`http://attacker.example:${port}/`)
      assert.equal(landing?.status(), 421)
      const seen = await page.evaluate(async () => {
        const started = await fetch('/v1/workflows/echo.say/run', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"text":"by the attacker page"}',
        })
        const list = await fetch('/v1/runs')
        return { started: started.status, listed: list.status, body: await list.text() }
      })
      assert.equal(seen.started, 421)
      assert.equal(seen.listed, 421)
      assert.doesNotMatch(seen.body, /runId/)
    } finally {
      await browser.close()
    }
    assert.equal(await runCount(port), before)
  })
})
