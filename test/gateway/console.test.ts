// The console's page and assets: served by the gateway without a token (they hold no
// data) under a CSP that allows nothing from elsewhere; only the console's own files; the
// data calls the page makes stay behind the gateway's auth. Served with or without a trace store.
import assert from 'node:assert/strict'
import { request } from 'node:http'
import { after, before, test } from 'node:test'
import { startFixture, type Fixture } from './fixture.js'

let fx: Fixture
before(async () => {
  fx = await startFixture({ tokens: ['s3cret'] })
})
after(() => fx.close())

void test('GET / is the console page, public, self-contained, under a strict CSP', async () => {
  const res = await fetch(`${fx.url}/`)
  assert.equal(res.status, 200)
  assert.match(res.headers.get('content-type') ?? '', /^text\/html/)
  const csp = res.headers.get('content-security-policy') ?? ''
  for (const directive of ["default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"]) {
    assert.ok(csp.includes(directive), `${directive} in ${csp}`)
  }
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff')
  const html = await res.text()
  assert.match(html, /<script type="module" src="\/console\/app\.js"><\/script>/)
  // No asset from anywhere else, and no inline script or style.
  assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//)
  assert.doesNotMatch(html, /<script>|<style>| style="/)
})

void test('the console modules and stylesheet are served with their types; every import resolves', async () => {
  const app = await fetch(`${fx.url}/console/app.js`)
  assert.equal(app.status, 200)
  assert.match(app.headers.get('content-type') ?? '', /^text\/javascript/)
  const css = await fetch(`${fx.url}/console/console.css`)
  assert.match(css.headers.get('content-type') ?? '', /^text\/css/)
  // Walk the module graph from app.js: every relative import is served.
  const seen = new Set<string>()
  const queue = ['app.js']
  while (queue.length) {
    const name = queue.pop() as string
    if (seen.has(name)) continue
    seen.add(name)
    const res = await fetch(`${fx.url}/console/${name}`)
    assert.equal(res.status, 200, name)
    for (const [, dep] of (await res.text()).matchAll(/from '\.\/([\w-]+\.js)'/g)) queue.push(dep as string)
  }
  assert.ok(seen.size >= 8, [...seen].join(', '))
})

/** GET `path` exactly as written (fetch would normalise `..` away before sending). */
function rawGet(path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${fx.url}/`, { path }, (res) => {
      let body = ''
      res.on('data', (chunk: Buffer) => (body += chunk.toString()))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

void test('nothing outside the console folder is served, however the name is spelt', async () => {
  for (const path of [
    '/console/../package.json',
    '/console/..%2Fpackage.json',
    '/console/%2e%2e%2fpackage.json',
    '/console/..%5cpackage.json',
    '/console/App.js',
    '/console/.env',
    '/console/app.js.map',
    '/console/app.js%00.css',
    '/console/',
  ]) {
    const res = await rawGet(path)
    assert.ok(res.status === 404 || res.status === 400, `${path}: ${res.status}`)
    assert.doesNotMatch(res.body, /"name": "switchyard-ai"|devDependencies/, path)
  }
})

void test('the data the page reads stays behind the token', async () => {
  for (const path of ['/v1/runs', '/v1/pools', '/v1/workflows']) {
    assert.equal((await fetch(`${fx.url}${path}`)).status, 401, path)
    assert.equal((await fetch(`${fx.url}${path}`, { headers: { authorization: 'Bearer s3cret' } })).status, 200, path)
  }
})
