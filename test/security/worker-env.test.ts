// Issue 12.2: a pool's processes hold none of the gateway's or the producer's secrets.
// `switchyard start` on a real Redis that needs a password (the producer's), with
// bearer tokens and a signing key file; a node and a Python graph each return their
// whole process.env / os.environ. Neither finds the signing key (file, path or PEM),
// an operator token, or the producer's Redis URL or password; each finds the public
// verify keys and its own Redis credentials (an ACL user of its own). A pool with no
// credentials of its own is the one case that gets the shared URL, and start says so.
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { test } from 'node:test'

import { generateSigningKey, writeSigningKeyFile } from '../../src/data/index.js'
import { eventually } from '../data/supervisor/supervisor-helpers.js'
import { poolRedisUsers } from '../helpers/pool-acl.js'
import { redisSkip, startRedis } from '../helpers/redis.js'

const START = fileURLToPath(new URL('../../src/cli/start.ts', import.meta.url))

function pythonReady(): boolean {
  const ok = spawnSync('python3', ['-c', 'import bullmq, opentelemetry.sdk, jsonschema, cryptography'], { stdio: 'ignore' }).status === 0
  if (!ok && process.env.CI) throw new Error("python3 cannot import the worker's dependencies, and CI must run the python pool")
  return ok
}

const REGISTRY = (python: boolean) => `version: 1
pools:
  dump:
    env: env/dump.env
    tracing: { project: env-dump }
  bare:
    tracing: { project: env-bare }
${python ? '  pydump:\n    runtime: python\n    env: env/pydump.env\n    tracing: { project: env-pydump }\n' : ''}workflows:
  dump.env:
    pool: dump
    graph: dump.ts#graph
    input: { type: object }
    description: Returns its process's whole environment.
  bare.env:
    pool: bare
    graph: dump.ts#graph
    input: { type: object }
    description: The same, in a pool with no Redis credentials of its own.
${python ? '  pydump.env:\n    pool: pydump\n    graph: dump.py#graph\n    input: { type: object }\n    description: The same in Python.\n' : ''}`

const NODE_GRAPH = `export function graph() {
  return () => ({ env: { ...process.env } })
}
`
const PY_GRAPH = `import os


def graph(setup):
    return lambda input, run: {"env": dict(os.environ)}
`

void test(
  "a pool's processes (node and Python) hold no signing key, gateway token or producer Redis URL",
  { skip: redisSkip() },
  async () => {
    const python = pythonReady()
    const producerPassword = `producer-${randomBytes(12).toString('hex')}`
    const redis = await startRedis(['--requirepass', producerPassword])
    const producerUrl = `redis://:${producerPassword}@127.0.0.1:${redis.port}`
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-worker-env-'))
    const operatorToken = `operator-${randomBytes(12).toString('hex')}`
    const key = generateSigningKey()
    const keyFile = join(dir, 'gateway.key')
    writeSigningKeyFile(keyFile, key)
    const pem = readFileSync(keyFile, 'utf8')
    const pemBody = pem.split('\n')[1] ?? ''
    // Each pool's own ACL user, reaching only its queue's keys.
    const poolUrls = await poolRedisUsers(producerUrl, redis.port, ['dump', 'pydump'])
    mkdirSync(join(dir, 'env'))
    writeFileSync(join(dir, 'env', 'dump.env'), `SWITCHYARD_REDIS_URL=${poolUrls.dump}\n`)
    writeFileSync(join(dir, 'env', 'pydump.env'), `SWITCHYARD_REDIS_URL=${poolUrls.pydump}\n`)
    writeFileSync(join(dir, 'dump.ts'), NODE_GRAPH)
    writeFileSync(join(dir, 'dump.py'), PY_GRAPH)
    writeFileSync(join(dir, 'switchyard.yaml'), REGISTRY(python))

    const child = spawn(
      process.execPath,
      ['--import', 'tsx', START, '--config', join(dir, 'switchyard.yaml'), '--port', '0', '--redis', producerUrl, '--signing-key', keyFile],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        // What an operator's shell may well hold: all of it stays with the gateway.
        env: { ...process.env, SWITCHYARD_TOKENS: operatorToken, SWITCHYARD_SIGNING_KEY_FILE: keyFile, SWITCHYARD_REDIS_URL: producerUrl },
      },
    )
    let text = ''
    child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()))
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    try {
      const url = await eventually('the gateway URL', () => /gateway (http:\/\/[\d.:]+)/.exec(text)?.[1], 60_000).catch((error: Error) => {
        throw new Error(`${error.message}\n${text}`)
      })
      const ready = async () => ((await fetch(`${url}/readyz`)).status === 200 ? true : undefined)
      await eventually('every pool ready', ready, 90_000).catch((error: Error) => {
        throw new Error(`${error.message}\n${text}`)
      })
      const run = async (workflow: string) => {
        const response = await fetch(`${url}/v1/workflows/${workflow}/run`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${operatorToken}` },
          body: '{}',
          signal: AbortSignal.timeout(30_000),
        })
        const body = (await response.json()) as { env: Record<string, string> }
        assert.equal(response.status, 200, `${workflow}: ${JSON.stringify(body)}\n${text}`)
        return body.env
      }
      const forbidden = [
        ['the signing key file', keyFile],
        ['the signing key PEM', pemBody],
        ['an operator token', operatorToken],
        ["the producer's Redis password", producerPassword],
      ] as const
      const dumps: [string, string, Record<string, string>][] = [['dump', 'dump.env', await run('dump.env')]]
      if (python) dumps.push(['pydump', 'pydump.env', await run('pydump.env')])
      for (const [pool, workflow, env] of dumps) {
        const all = JSON.stringify(env)
        for (const [what, secret] of forbidden) assert.ok(!all.includes(secret), `${workflow}: its env holds ${what}`)
        for (const name of ['SWITCHYARD_SIGNING_KEY_FILE', 'SWITCHYARD_SIGNING_KEY', 'SWITCHYARD_TOKENS'])
          assert.equal(env[name], undefined, name)
        // What it does need is there: the public key, and its own Redis credentials.
        assert.equal(env.SWITCHYARD_VERIFY_KEYS, key.publicKey)
        assert.equal(env.SWITCHYARD_REDIS_URL, poolUrls[pool])
        // No credential it holds reads anyone's runs through the gateway.
        for (const [name, value] of Object.entries(env)) {
          if (value.length < 16 || /[\s/]/.test(value)) continue
          const response = await fetch(`${url}/v1/runs`, { headers: { authorization: `Bearer ${value}` } })
          await response.body?.cancel()
          assert.ok(response.status === 401 || response.status === 403, `${workflow}: ${name} reads /v1/runs (${response.status})`)
        }
      }
      // A pool with no credentials of its own is the one that gets the shared URL: said loudly.
      const bare = await run('bare.env')
      assert.equal(bare.SWITCHYARD_REDIS_URL, producerUrl)
      assert.match(text, /WARNING: pool 'bare' has no Redis credentials of its own/)
      assert.doesNotMatch(text, /WARNING: pool '(dump|pydump)' has no Redis credentials/)
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT')
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
      await exited
      clearTimeout(timer)
      await redis.stop()
      rmSync(dir, { recursive: true, force: true })
    }
  },
)
