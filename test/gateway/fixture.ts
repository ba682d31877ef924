// A real gateway on port 0 over a real MemoryBroker and an in-process pool worker,
// on a small registry written to a temp folder (loadRegistry writes its compiled
// form beside the file, so never inside the repo). Call close() when done.
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadRegistry } from '../../src/control/index.js'
import type { Registry } from '../../src/control/index.js'
import { randomUUID } from 'node:crypto'
import type { Broker, RunSource } from '../../src/data/broker/index.js'
import { MemoryBroker } from '../../src/data/broker/memory/index.js'
import { createWorker, type PoolWorker } from '../../src/data/worker/index.js'
import { generateSigningKey, verifyKeysFor } from '../../src/data/index.js'
import { startGateway, type Gateway, type GatewayOptions } from '../../src/gateway/index.js'
import { poolLive } from '../helpers/pool-live.js'

const REGISTRY = `
version: 1
pools:
  email:
    concurrency: 4
    timeout: 5s
    retries: 0
    tracing: { project: sales-email, sampleRate: 1.0, capture: full }
  held:
    concurrency: 1
    timeout: 60s
    retries: 0
    maxQueued: 1
    tracing: { project: held, sampleRate: 1.0, capture: full }
  quiet:
    concurrency: 2
    timeout: 5s
    retries: 0
    tracing: { project: quiet, sampleRate: 0, capture: full }
workflows:
  echo.say:
    pool: email
    graph: graphs/echo.mjs#graph
    description: Repeats the text back.
    input:
      type: object
      required: [text]
      additionalProperties: false
      properties:
        text: { type: string, minLength: 1 }
        shout: { type: boolean, default: false }
    output:
      type: object
      properties: { said: { type: string } }
  echo.fail:
    pool: email
    graph: graphs/echo.mjs#failing
    description: Always fails.
    input: { type: object }
  echo.slow:
    pool: email
    graph: graphs/echo.mjs#slow
    timeout: 200ms
    description: Never finishes before its deadline.
    input: { type: object }
  echo.watch:
    pool: email
    graph: graphs/echo.mjs#watch
    description: Runs until its signal aborts, then writes the abort's reason to input.file.
    input: { type: object, required: [file], properties: { file: { type: string } } }
  quiet.say:
    pool: quiet
    graph: graphs/echo.mjs#graph
    description: Never traced.
    input: { type: object }
  held.wait:
    pool: held
    graph: graphs/echo.mjs#graph
    description: Its pool has no worker.
    input: { type: object }
`

const GRAPHS = `
export function graph() {
  return (input) => ({ said: input.shout ? String(input.text).toUpperCase() : input.text })
}
export function failing() {
  return () => { throw new Error('the lead has no e-mail address') }
}
export function slow() {
  return (_input, run) => new Promise((resolve) => run.signal.addEventListener('abort', () => resolve(null)))
}
export async function watch() {
  const { writeFileSync } = await import('node:fs')
  return (input, run) =>
    new Promise((resolve) => {
      writeFileSync(input.file + '.started', '')
      run.signal.addEventListener('abort', () => {
        const reason = run.signal.reason
        writeFileSync(input.file, JSON.stringify({ code: reason?.code, retryable: reason?.retryable, message: reason?.message }))
        resolve(null)
      })
    })
}
`

/** The fixture gateway's signing key; its workers get only SIGNING_KEY's public half (VERIFY_KEYS). */
export const SIGNING_KEY = generateSigningKey()
export const VERIFY_KEYS = verifyKeysFor(SIGNING_KEY)

export interface Fixture {
  readonly url: string
  readonly gateway: Gateway
  readonly broker: Broker
  /** A RunSource of the fixture's broker, for a test that starts a worker itself. */
  readonly source: (pool: string) => RunSource
  readonly registry: Registry
  readonly dir: string
  close(): Promise<void>
}

/** Write the registry and its graphs to a fresh temp folder and load it. */
export function writeRegistry(): { registry: Registry; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-gateway-'))
  mkdirSync(join(dir, 'graphs'))
  writeFileSync(join(dir, 'switchyard.yaml'), REGISTRY)
  writeFileSync(join(dir, 'graphs', 'echo.mjs'), GRAPHS)
  return { registry: loadRegistry(join(dir, 'switchyard.yaml')), dir }
}

/**
 * Gateway + broker + `email` and `quiet` workers (the `held` pool has none, on purpose).
 * The broker is a MemoryBroker, or a RedisBroker (unique key prefix) when `redisUrl` is given.
 */
export async function startFixture(options: Partial<GatewayOptions> = {}, redisUrl?: string): Promise<Fixture> {
  const { registry, dir } = writeRegistry()
  let broker: Broker
  let source: (pool: string) => RunSource
  if (redisUrl === undefined) {
    const memory = new MemoryBroker({ pools: registry.pools.values() })
    broker = memory
    source = (pool) => memory.source(pool)
  } else {
    const { RedisBroker } = await import('../../src/data/broker/redis/redis-broker.js')
    const { redisRunSource } = await import('../../src/data/broker/redis/redis-run-source.js')
    const prefix = `sy-${randomUUID().slice(0, 8)}`
    broker = await RedisBroker.connect({ registry, url: redisUrl, prefix })
    source = (pool) => redisRunSource(pool, { url: redisUrl, prefix })
  }
  const signingKey = options.signingKey === undefined ? SIGNING_KEY : options.signingKey
  const workers: PoolWorker[] = ['email', 'quiet'].map((pool) =>
    createWorker({ pool, registry, source: source(pool), verifyKeys: signingKey && verifyKeysFor(signingKey), watchdogGraceMs: null }),
  )
  for (const worker of workers) await worker.start()
  // On Redis a worker counts once its first heartbeat is in: a run for a pool without one is refused.
  for (const pool of ['email', 'quiet']) await poolLive(broker, pool)
  const gateway = await startGateway({ registry, broker, port: 0, tokens: null, ...options, signingKey })
  return {
    url: gateway.url,
    gateway,
    broker,
    source,
    registry,
    dir,
    async close() {
      await gateway.close()
      for (const worker of workers) await worker.close()
      await broker.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** POST a run with JSON and return status, headers and the parsed body. */
export async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
  return { status: response.status, headers: response.headers, body: await parse(response) }
}

export async function get(url: string, headers: Record<string, string> = {}) {
  const response = await fetch(url, { headers })
  return { status: response.status, headers: response.headers, body: await parse(response) }
}

async function parse(response: Response): Promise<unknown> {
  const text = await response.text()
  return /json/.test(response.headers.get('content-type') ?? '') && text !== '' ? (JSON.parse(text) as unknown) : text
}
