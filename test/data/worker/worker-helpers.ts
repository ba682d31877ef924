// Shared helpers of the worker and supervisor tests: the fixture registry and
// envelopes made the way the gateway makes them (route() → createEnvelope, signed).
import { randomUUID } from 'node:crypto'
import { fileURLToPath } from 'node:url'

import { loadRegistry, route } from '../../../src/control/index.js'
import type { Registry, RoutePlan } from '../../../src/control/index.js'
import { createEnvelope, generateSigningKey, verifyKeysFor, type Envelope, type SigningKey } from '../../../src/data/index.js'

export const FIXTURE_REGISTRY = fileURLToPath(new URL('../../fixtures/data/switchyard.yaml', import.meta.url))
/** The gateway's signing key in these tests; workers get only VERIFY, its public half. */
export const KEY = generateSigningKey()
export const VERIFY = verifyKeysFor(KEY)
export const TRACE = { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', tracestate: '', baggage: '' }

export function fixtureRegistry(): Registry {
  return loadRegistry(FIXTURE_REGISTRY)
}

/** An envelope for `workflow`, signed with KEY unless `key` says otherwise; `change` edits the plan first. */
export function envelopeFor(
  registry: Registry,
  workflow: string,
  input: unknown,
  options: { key?: SigningKey | null; change?: (plan: RoutePlan) => RoutePlan; idempotencyKey?: string } = {},
): Envelope {
  const plan = route(registry, { workflow, input })
  const runId = `t-${randomUUID()}`
  const key = options.key === undefined ? KEY : options.key
  return createEnvelope((options.change ?? ((p) => p))(plan), { runId, trace: TRACE, idempotencyKey: options.idempotencyKey ?? null }, key)
}

export const LONG = 30_000
