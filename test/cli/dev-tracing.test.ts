// `switchyard dev` stores the gateway's own spans straight into its embedded trace
// store: no OTLP/HTTP round trip to its own receiver (the tracing-cost budget).
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'

import { spawnDev } from './dev-process.js'
import { eventually } from '../data/supervisor/supervisor-helpers.js'

void test("switchyard dev: the gateway's spans reach the store without a POST /v1/traces to itself", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-dev-tracing-'))
  mkdirSync(join(dir, 'graphs'))
  writeFileSync(join(dir, 'graphs/echo.ts'), 'export function graph() {\n  return (input: unknown) => ({ echo: input })\n}\n')
  // The pool's worker exports nothing: every POST /v1/traces would be the gateway's own.
  writeFileSync(join(dir, 'work.env'), 'OTEL_SDK_DISABLED=true\n')
  writeFileSync(
    join(dir, 'switchyard.yaml'),
    `version: 1
pools:
  work:
    timeout: 30s
    env: work.env
    tracing: { project: work, sampleRate: 1.0, capture: full }
workflows:
  hello.echo:
    pool: work
    graph: graphs/echo.ts#graph
    input: { type: object }
    description: Echoes its input.
`,
  )
  const dev = spawnDev(['--config', join(dir, 'switchyard.yaml'), '--port', '0'], dir, {
    SWITCHYARD_SIGNING_KEY: '',
    SWITCHYARD_TOKENS: '',
    OTEL_EXPORTER_OTLP_ENDPOINT: '',
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: '',
    OTEL_BSP_SCHEDULE_DELAY: '50',
  })
  let code: number | null
  try {
    const url = await eventually('the gateway URL', () => /gateway (http:\/\/[\d.:]+)/.exec(dev.text)?.[1], 30_000)
    // A run for a pool whose worker is still starting is refused at once (503): wait for it, as dev's own hints do.
    await eventually('a live worker of every pool', async () => (await fetch(`${url}/readyz`)).status === 200, 30_000)
    const response = await fetch(`${url}/v1/workflows/hello.echo/run`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Ada' }),
      signal: AbortSignal.timeout(30_000),
    })
    assert.equal(response.status, 200, `${await response.text()}\n${dev.text}`)
    const traceId = response.headers.get('x-switchyard-trace-id') ?? ''
    const names = await eventually(
      `the gateway's spans of trace ${traceId} in the store`,
      async () => {
        const tree = await fetch(`${url}/v1/traces/${traceId}`)
        if (tree.status !== 200) return undefined
        const body = (await tree.json()) as { spans?: { name: string; service: string }[]; tree: { spanCount: number } }
        return body.tree.spanCount >= 3 ? (body.spans ?? []).map((s) => `${s.service} ${s.name}`) : undefined
      },
      15_000,
    )
    const metrics = await (await fetch(`${url}/metrics`)).text()
    const selfExports = metrics
      .split('\n')
      .filter(
        (line) =>
          line.startsWith('switchyard_gateway_requests_total{') && line.includes('route="/v1/traces"') && line.includes('method="POST"'),
      )
    assert.deepEqual(selfExports, [], `spans stored: ${names.join(', ')}`)
  } finally {
    code = await dev.stop()
    rmSync(dir, { recursive: true, force: true })
  }
  assert.equal(code, 0, dev.text)
})
