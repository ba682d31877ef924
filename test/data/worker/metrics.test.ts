// The tiny Prometheus registry behind every /metrics: the exact text exposition.
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { MetricsRegistry } from '../../../src/observe/metrics/index.js'

void test('counters, gauges and histograms render in the text exposition format', () => {
  const metrics = new MetricsRegistry()
  const runs = metrics.counter('runs_total', 'Runs.')
  const inFlight = metrics.gauge('in_flight', 'In flight.')
  const duration = metrics.histogram('duration_seconds', 'Duration.', [0.1, 1])
  runs.inc({ workflow: 'a', code: 'X' })
  runs.inc({ code: 'X', workflow: 'a' }, 2)
  runs.inc({ workflow: 'say "hi"\\\n' })
  inFlight.collect(() => inFlight.set(3))
  duration.observe(0.05)
  duration.observe(0.5)
  duration.observe(5)
  assert.equal(
    metrics.render(),
    [
      '# HELP runs_total Runs.',
      '# TYPE runs_total counter',
      'runs_total{code="X",workflow="a"} 3',
      'runs_total{workflow="say \\"hi\\"\\\\\\n"} 1',
      '# HELP in_flight In flight.',
      '# TYPE in_flight gauge',
      'in_flight 3',
      '# HELP duration_seconds Duration.',
      '# TYPE duration_seconds histogram',
      'duration_seconds_bucket{le="0.1"} 1',
      'duration_seconds_bucket{le="1"} 2',
      'duration_seconds_bucket{le="+Inf"} 3',
      'duration_seconds_sum 5.55',
      'duration_seconds_count 3',
      '',
    ].join('\n'),
  )
  assert.equal(runs.get({ workflow: 'a', code: 'X' }), 3)
  assert.deepEqual(duration.get(), { count: 3, sum: 5.55 })
})

void test('mistakes fail loudly: a bad name, a name registered twice, a counter going down', () => {
  const metrics = new MetricsRegistry()
  assert.throws(() => metrics.counter('runs-total', 'x'), { message: "invalid metric name 'runs-total'" })
  metrics.gauge('g', 'x')
  assert.throws(() => metrics.counter('g', 'x'), { message: "metric 'g' is registered twice" })
  assert.throws(() => metrics.counter('c', 'x').inc({}, -1), { message: 'counter c cannot decrease' })
})
