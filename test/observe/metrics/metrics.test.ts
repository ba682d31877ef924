// Every /metrics series comes from one table (src/control/contract/metrics.ts), shared
// with the Python worker through spec/metrics.json; prom-client writes the text. The
// reasons both workers refuse envelopes for, read from their sources, are the spec's.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { METRICS, type MetricKey } from '../../../src/control/index.js'
import { MetricsRegistry, registerMetrics } from '../../../src/observe/metrics/index.js'
import { metricsSpec } from '../../../scripts/spec.js'
import { sampleValue } from '../../helpers/prometheus.js'

void test('spec/metrics.json is the table in src/control (npm run spec rewrites it)', () => {
  assert.equal(readFileSync(new URL('../../../spec/metrics.json', import.meta.url), 'utf8'), metricsSpec())
})

/** The reasons a worker's source passes to switchyard_envelopes_rejected_total: string literals in its reject calls. */
function reasonsIn(file: string, calls: RegExp[]): Set<string> {
  const source = readFileSync(new URL(`../../../${file}`, import.meta.url), 'utf8')
  const reasons = new Set<string>()
  for (const call of calls)
    for (const [, argument] of source.matchAll(call)) for (const [, reason] of argument!.matchAll(/['"]([a-z]+)['"]/g)) reasons.add(reason!)
  return reasons
}

void test('every reason a worker (node or Python) refuses an envelope for is in the spec and its help, and the spec names none they never emit', () => {
  const spec = JSON.parse(readFileSync(new URL('../../../spec/metrics.json', import.meta.url), 'utf8')) as {
    metrics: Array<{ name: string; help: string; labelValues?: { reason?: string[] } }>
  }
  const rejected = spec.metrics.find((m) => m.name === 'switchyard_envelopes_rejected_total')
  const listed = new Set(rejected?.labelValues?.reason)
  // reject('replay', …), reject(cond ? 'signature' : 'malformed', …), envelopesRejected.inc({ …, reason: 'deadline' })
  const node = reasonsIn('src/data/worker/worker.ts', [/\breject\(([^,]+),/g, /envelopesRejected\.inc\(\{[^}]*reason: ([^,}]+)/g])
  // self._reject("replay", …), self._reject("signature" if signed else "malformed", …)
  const python = reasonsIn('python/switchyard_worker/runner.py', [/\b_reject\(([^,]+),/g])
  // The scan finds the calls (a refactor that hides them from it fails here, not silently).
  assert.ok(
    ['signature', 'malformed', 'replay', 'deadline'].every((r) => node.has(r) && python.has(r)),
    `node ${[...node]}, python ${[...python]}`,
  )
  for (const reason of [...node, ...python]) {
    assert.ok(listed.has(reason), `'${reason}' is emitted but not in spec/metrics.json`)
    assert.match(rejected?.help ?? '', new RegExp(`\\b${reason}\\b`), `'${reason}' is not in the help text`)
  }
  assert.deepEqual([...listed].sort(), [...new Set([...node, ...python])].sort(), 'the spec lists a reason no worker emits')
})

void test('every series of the table registers with its type, help and labels, and renders in the text format', async () => {
  const registry = new MetricsRegistry()
  const keys = Object.keys(METRICS) as MetricKey[]
  const metrics = registerMetrics(registry, keys)
  metrics.runsFailed.inc({ pool: 'email', workflow: 'email.compose', code: 'GRAPH_FAILED' })
  metrics.runsFailed.inc({ code: 'GRAPH_FAILED', workflow: 'email.compose', pool: 'email' }, 2)
  metrics.runsStarted.labels({ pool: 'email', workflow: 'say "hi"\\\n' }).inc()
  metrics.runDuration.observe({ pool: 'email', workflow: 'w', outcome: 'succeeded' }, 0.05)
  metrics.runDuration.labels({ pool: 'email', workflow: 'w', outcome: 'succeeded' }).observe(5)
  metrics.brokerUp.set(1)
  const text = await registry.metrics()
  for (const info of Object.values(METRICS)) {
    assert.ok(text.includes(`# HELP ${info.name} ${info.help}\n`), info.name)
    assert.ok(text.includes(`# TYPE ${info.name} ${info.type}\n`), info.name)
    assert.match(info.name, /^switchyard_[a-z_]+$/)
    if (info.type === 'counter') assert.match(info.name, /_total$/)
    if (info.type === 'histogram') assert.match(info.name, /_seconds$/)
  }
  assert.equal(sampleValue(text, 'switchyard_runs_failed_total', { pool: 'email', workflow: 'email.compose', code: 'GRAPH_FAILED' }), 3)
  assert.ok(text.includes('workflow="say \\"hi\\"\\\\\\n"'), 'label values are escaped')
  const succeeded = { pool: 'email', workflow: 'w', outcome: 'succeeded' }
  assert.equal(sampleValue(text, 'switchyard_run_duration_seconds_bucket', { ...succeeded, le: '0.001' }), 0)
  assert.equal(sampleValue(text, 'switchyard_run_duration_seconds_bucket', { ...succeeded, le: '0.05' }), 1)
  assert.equal(sampleValue(text, 'switchyard_run_duration_seconds_bucket', { ...succeeded, le: '120' }), 2)
  assert.equal(sampleValue(text, 'switchyard_run_duration_seconds_bucket', { ...succeeded, le: '+Inf' }), 2)
  assert.equal(sampleValue(text, 'switchyard_run_duration_seconds_sum', succeeded), 5.05)
  assert.equal(sampleValue(text, 'switchyard_broker_up'), 1)
})

void test('mistakes fail loudly: a label outside the table, a series registered twice, a counter going down', () => {
  const registry = new MetricsRegistry()
  const { runsStarted } = registerMetrics(registry, ['runsStarted'])
  assert.throws(() => runsStarted.inc({ pool: 'p', workflow: 'w', extra: 'x' } as never), /Added label "extra" is not included/)
  assert.throws(() => registerMetrics(registry, ['runsStarted']), /already been registered/)
  assert.throws(() => runsStarted.inc({ pool: 'p', workflow: 'w' }, -1), /It is not possible to decrease a counter/)
})
