// Issue 12.7: a pool's secrets — the values of its env variables named *_KEY, *_TOKEN,
// *_SECRET, *_PASSWORD or listed under `secrets:` — never appear in its spans, its log
// lines or a run's error (the caller's 502 body), whatever its capture; under
// `capture: redacted` personal data is masked there too. A real `switchyard dev` with
// a node pool (capture: full, the hardest case for secrets) and a Python pool
// (capture: redacted), each reading its key from its own env file; each graph logs the
// key and fails quoting it, as a provider's SDK does ("Incorrect API key provided: …").
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'

import { spawnDev, type DevProcess } from '../cli/dev-process.js'
import { eventually } from '../helpers/eventually.js'
import { PYTHON, pythonSkip } from '../helpers/python.js'

const KEYS = { node: 'sk-live-node-4f9c2a7e1b', py: 'sk-live-py-93be1d0c55' }
const HOOKS = { node: 'whsec-node-hook-771', py: 'whsec-py-hook-772' }
const EMAIL = 'ada@example.com'

const skipPython = pythonSkip(['opentelemetry.sdk', 'jsonschema'])

let dir: string
let dev: DevProcess
let url: string

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'switchyard-secrets-'))
  mkdirSync(join(dir, 'graphs'))
  writeFileSync(
    join(dir, 'graphs', 'leak.mjs'),
    `export function graph() {
  return (input, run) => {
    const key = process.env.PROVIDER_API_KEY
    run.log.warn('calling the provider with ' + key + ' for ' + input.email, { key, hook: process.env.HOOK, email: input.email })
    throw new Error('401 Incorrect API key provided: ' + key + ' (webhook ' + process.env.HOOK + ', user ' + input.email + ')')
  }
}
`,
  )
  writeFileSync(
    join(dir, 'graphs', 'leak.py'),
    `def leak(input, run):
    import os

    key = os.environ["PROVIDER_API_KEY"]
    run.log.warning("calling the provider with %s for %s", key, input["email"])
    raise RuntimeError(f"401 Incorrect API key provided: {key} (webhook {os.environ['HOOK']}, user {input['email']})")
`,
  )
  writeFileSync(join(dir, 'node.env'), `PROVIDER_API_KEY=${KEYS.node}\nHOOK=${HOOKS.node}\n`)
  writeFileSync(join(dir, 'py.env'), `PROVIDER_API_KEY=${KEYS.py}\nHOOK=${HOOKS.py}\n`)
  writeFileSync(
    join(dir, 'switchyard.yaml'),
    `version: 1
pools:
  node: { retries: 0, env: node.env, secrets: [HOOK], tracing: { capture: full } }
${skipPython ? '' : '  py: { runtime: python, retries: 0, env: py.env, secrets: [HOOK], tracing: { capture: redacted } }\n'}workflows:
  node.leak: { pool: node, graph: graphs/leak.mjs#graph, input: { type: object }, description: Leaks its key. }
${skipPython ? '' : '  py.leak: { pool: py, graph: graphs/leak.py#leak, input: { type: object }, description: Leaks its key. }\n'}`,
  )
  dev = spawnDev(['--config', join(dir, 'switchyard.yaml'), '--port', '0'], dir, {
    SWITCHYARD_SIGNING_KEY: '',
    SWITCHYARD_TOKENS: '',
    OTEL_EXPORTER_OTLP_ENDPOINT: '',
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: '',
    OTEL_BSP_SCHEDULE_DELAY: '50',
    SWITCHYARD_PYTHON: PYTHON,
  })
  url = await eventually('the gateway URL', () => /gateway (http:\/\/[\d.:]+)/.exec(dev.text)?.[1], 60_000)
  await eventually('a live worker of every pool', async () => (await fetch(`${url}/readyz`)).status === 200, 60_000)
})

after(async () => {
  await dev?.stop()
  rmSync(dir, { recursive: true, force: true })
})

const SECRETS = [...Object.values(KEYS), ...Object.values(HOOKS)]
const leaked = (text: string) => SECRETS.filter((secret) => text.includes(secret))

for (const [pool, capture] of [
  ['node', 'full'],
  ['py', 'redacted'],
] as const) {
  void test(
    `${pool} pool (capture: ${capture}): no secret in the 502 body, the run record, the logs or the trace`,
    { skip: pool === 'py' && skipPython },
    async () => {
      const response = await fetch(`${url}/v1/workflows/${pool}.leak/run`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-switchyard-force-trace': '1' },
        body: JSON.stringify({ email: EMAIL }),
        signal: AbortSignal.timeout(30_000),
      })
      const body = await response.text()
      assert.equal(response.status, 502, body)
      assert.deepEqual(leaked(body), [], body)
      const problem = JSON.parse(body) as { code: string; detail: string }
      assert.equal(problem.code, 'GRAPH_FAILED')
      // The key and the webhook secret (listed by name under secrets:) are both scrubbed.
      assert.match(problem.detail, /^401 Incorrect API key provided: \[secret\] \(webhook \[secret\], user /)
      // Personal data follows the capture: shown with full, masked with redacted.
      assert.equal(problem.detail.includes(EMAIL), capture === 'full', problem.detail)

      const runId = response.headers.get('x-switchyard-run-id') ?? ''
      const record = await (await fetch(`${url}/v1/runs/${runId}`)).text()
      assert.deepEqual(leaked(record), [], record)

      const line = await eventually(`the ${pool} graph's log line`, () =>
        dev.text.split('\n').find((l) => l.includes(runId.slice(0, 8)) || (l.includes('calling the provider') && l.includes(`[${pool} `))),
      )
      assert.ok(line)
      const logged = dev.text.split('\n').filter((l) => l.includes('calling the provider') && l.startsWith(`[${pool} `))
      assert.ok(logged.length > 0 && logged.every((l) => l.includes('[secret]')), logged.join('\n'))
      assert.equal(
        logged.some((l) => l.includes(EMAIL)),
        capture === 'full',
        logged.join('\n'),
      )

      const traceId = response.headers.get('x-switchyard-trace-id') ?? ''
      const trace = await eventually(`the ${pool} worker's run span in trace ${traceId}`, async () => {
        const tree = await fetch(`${url}/v1/traces/${traceId}`)
        const text = tree.status === 200 ? await tree.text() : ''
        return text.includes(`run ${pool}.leak`) ? text : undefined
      })
      assert.ok(trace.includes('[secret]'), 'the error reached the span, scrubbed')
      assert.deepEqual(leaked(trace), [])
      assert.equal(trace.includes(EMAIL), capture === 'full')
    },
  )
}

void test('nothing dev printed carries a secret', () => {
  assert.deepEqual(leaked(dev.text), [], dev.text)
})
