// "Never a bare 500 for bad input" (DESIGN §2.3): a table of malformed requests,
// each answered with a 4xx problem+json carrying a stable code.
import assert from 'node:assert/strict'
import { request } from 'node:http'
import { after, before, test } from 'node:test'
import { startFixture, type Fixture } from './fixture.js'

let fx: Fixture
before(async () => {
  fx = await startFixture({ bodyLimitBytes: 1024 })
})
after(() => fx.close())

interface Case {
  readonly name: string
  readonly method?: string
  readonly path?: string
  readonly headers?: Record<string, string>
  readonly body?: string | Buffer
  readonly status: number
  readonly code: string
  /** The problem's exact detail, when the case is about its wording. */
  readonly detail?: string
}

const RUN = '/v1/workflows/echo.say/run'
const JSON_TYPE = { 'content-type': 'application/json' }

const CASES: Case[] = [
  { name: 'JSON null', headers: JSON_TYPE, body: 'null', status: 422, code: 'INVALID_INPUT' },
  { name: 'a JSON array', headers: JSON_TYPE, body: '[1,2]', status: 422, code: 'INVALID_INPUT' },
  { name: 'a JSON string', headers: JSON_TYPE, body: '"hi"', status: 422, code: 'INVALID_INPUT' },
  {
    name: '__proto__ keys',
    headers: JSON_TYPE,
    body: '{"__proto__": {"text": "x"}, "text": "ok", "constructor": 1}',
    status: 422,
    code: 'INVALID_INPUT',
  },
  {
    name: 'nesting deeper than 64 levels',
    headers: JSON_TYPE,
    body: `${'['.repeat(400)}${']'.repeat(400)}`,
    status: 400,
    code: 'BAD_REQUEST',
    detail: 'the body nests arrays and objects more than 64 levels deep (the limit)',
  },
  {
    name: '64 levels are read, then checked against the schema',
    headers: JSON_TYPE,
    body: `${'['.repeat(64)}${']'.repeat(64)}`,
    status: 422,
    code: 'INVALID_INPUT',
  },
  {
    name: 'brackets inside strings do not count as nesting',
    headers: JSON_TYPE,
    body: JSON.stringify({ text: `\\"${'['.repeat(300)}` }),
    status: 200,
    code: '',
  },
  {
    name: 'invalid UTF-8',
    headers: JSON_TYPE,
    body: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]),
    status: 400,
    code: 'BAD_REQUEST',
    detail: 'the body is not valid UTF-8; send JSON encoded as UTF-8',
  },
  { name: 'trailing garbage', headers: JSON_TYPE, body: '{"text":"x"} x', status: 400, code: 'BAD_REQUEST' },
  {
    name: 'a charset parameter is fine, a wrong type is not',
    headers: { 'content-type': 'text/json' },
    body: '{}',
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  { name: 'no content-type', body: '{"text":"x"}', status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  {
    name: 'a declared length over the limit',
    headers: { ...JSON_TYPE, 'content-length': '999999' },
    body: '{}',
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
  },
  {
    name: 'a malformed traceparent is ignored',
    headers: { ...JSON_TYPE, traceparent: '00-zz-yy-01' },
    body: '{"text":"x"}',
    status: 200,
    code: '',
  },
  {
    name: 'an empty Idempotency-Key',
    headers: { ...JSON_TYPE, 'idempotency-key': '' },
    body: '{"text":"x"}',
    status: 400,
    code: 'BAD_REQUEST',
  },
  {
    name: 'a bad percent-encoding in the path',
    path: '/v1/workflows/%E0%A4%A/run',
    headers: JSON_TYPE,
    body: '{}',
    status: 400,
    code: 'BAD_REQUEST',
  },
  {
    name: 'a very long workflow name',
    path: `/v1/workflows/${'a'.repeat(5000)}/run`,
    headers: JSON_TYPE,
    body: '{}',
    status: 404,
    code: 'UNKNOWN_WORKFLOW',
  },
  {
    name: 'a workflow name with a slash',
    path: '/v1/workflows/echo%2Fsay/run',
    headers: JSON_TYPE,
    body: '{}',
    status: 404,
    code: 'UNKNOWN_WORKFLOW',
  },
  { name: 'an unknown method', method: 'PATCH', headers: JSON_TYPE, body: '{}', status: 405, code: 'METHOD_NOT_ALLOWED' },
]

function send(c: Case): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const url = new URL(c.path ?? RUN, fx.url)
    const body = c.body ?? ''
    const headers: Record<string, string | number> = { 'content-length': Buffer.byteLength(body), ...c.headers }
    const req = request(url, { method: c.method ?? 'POST', headers }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (text += chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body: text }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

for (const c of CASES) {
  void test(`${c.name} → ${c.status}${c.code ? ` ${c.code}` : ''}`, async () => {
    const res = await send(c)
    assert.equal(res.status, c.status, res.body)
    if (c.status >= 400) {
      assert.equal(res.type, 'application/problem+json')
      const problem = JSON.parse(res.body) as { code: string; detail: string }
      assert.equal(problem.code, c.code)
      if (c.detail !== undefined) assert.equal(problem.detail, c.detail)
    }
  })
}
