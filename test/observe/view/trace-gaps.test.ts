// When a stored trace is one run's whole tree: what `switchyard trace` and
// `run --trace` wait for before they draw it.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ATTR } from '../../../src/control/index.js'
import type { StoredSpan } from '../../../src/observe/index.js'
import { buildRunTree, traceGaps } from '../../../src/observe/view/index.js'

const traceId = '4bf92f3577b34da6a3ce929d0e0e4736'
const span = (
  spanId: string,
  name: string,
  kind: StoredSpan['kind'],
  parentSpanId: string | null,
  over: Partial<StoredSpan> = {},
): StoredSpan => ({
  traceId,
  spanId: spanId.repeat(16),
  parentSpanId: parentSpanId === null ? null : parentSpanId.repeat(16),
  name,
  kind,
  service: 'switchyard-gateway',
  project: 'p',
  start: 1,
  end: 2,
  status: 'ok',
  attributes: {},
  resource: {},
  ...over,
})
const server = span('1', 'POST /v1/workflows/{name}/run', 'server', null)
const route = span('2', 'route echo.say', 'internal', '1')
const enqueue = span('3', 'enqueue email', 'producer', '1')
const run = span('4', 'run echo.say', 'consumer', '3')
const node = span('5', 'node draft', 'internal', '4')
const gaps = (...spans: StoredSpan[]) => traceGaps(buildRunTree(spans))

void test('a run whose root, enqueue and run span are all stored is whole', () => {
  assert.deepEqual(gaps(server, route, enqueue, run, node), [])
  // The request span's parent is the caller's (stored elsewhere, or nowhere): still whole.
  assert.deepEqual(gaps({ ...server, parentSpanId: 'a'.repeat(16) }, route, enqueue, run), [])
  // The CLI's client span at the root, as `switchyard run --trace` sends it.
  assert.deepEqual(gaps(span('0', 'client run echo.say', 'client', null), { ...server, parentSpanId: '0'.repeat(16) }, enqueue, run), [])
})

void test('an enqueue without its run span is waited for, unless it failed or found a run of another trace', () => {
  assert.deepEqual(gaps(server, route, enqueue), [
    "'enqueue email' has no run span yet (the run is queued or running, or its worker has not exported it yet)",
  ])
  assert.deepEqual(gaps(server, route, { ...enqueue, status: 'error' }), [])
  assert.deepEqual(gaps(server, route, { ...enqueue, attributes: { [ATTR.deduped]: true } }), [])
})

void test('spans whose parent is not stored yet, or no span at all, are gaps', () => {
  // The worker's batch came first: its run span's enqueue (and the request span) are not there yet.
  assert.deepEqual(gaps(run, node), [`the parent of 'run echo.say' (${'3'.repeat(16)}) is not stored yet`])
  // The request span ends last: its children are orphans meanwhile.
  assert.deepEqual(gaps(route, enqueue, run), [
    `the parent of 'route echo.say' (${'1'.repeat(16)}) is not stored yet`,
    `the parent of 'enqueue email' (${'1'.repeat(16)}) is not stored yet`,
  ])
  assert.deepEqual(gaps(), ['no span stored yet'])
})
