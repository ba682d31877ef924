// A registry folder run by a real `switchyard start` (on a fresh redis-server) or `dev`,
// for the tests that drive it through its gateway: write the project, launch it, wait
// until every pool is ready, run the test's body, and stop and remove everything after,
// whatever the body did. Failures carry what the launched process printed.
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'

import { eventually, type Check } from './eventually.js'
import { startRedis, type RedisServer } from './redis.js'
import { launch, type Launched } from './start.js'

export interface Project {
  /** Names the temp folder (`switchyard-<tag>-…`). */
  readonly tag: string
  /** Relative path → text; `switchyard.yaml` among them. Folders are made as needed. */
  readonly files: Readonly<Record<string, string>>
}

export interface StartOptions {
  /**
   * Under `start`: the env `start` gets, once Redis is up (default: SWITCHYARD_REDIS_URL of
   * the server's default user). May write the project's files first (a pool's env file).
   */
  readonly env?: (redis: RedisServer, dir: string) => Promise<Record<string, string>>
}

/**
 * `switchyard start --no-auth` (on a redis-server of its own) or `switchyard dev` over
 * `project`, once /readyz answers 200 (90 s: Python pools import their SDKs first).
 *
 * @example await withLaunched('start', { tag: 'python-crash', files }, async (running, dir) => { ... })
 */
export async function withLaunched(
  command: 'start' | 'dev',
  project: Project,
  body: (running: Launched, dir: string) => Promise<void>,
  options: StartOptions = {},
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), `switchyard-${project.tag}-`))
  let redis: RedisServer | undefined
  let running: Launched | undefined
  try {
    for (const [path, text] of Object.entries(project.files)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true })
      writeFileSync(join(dir, path), text)
    }
    const args = ['--config', join(dir, 'switchyard.yaml')]
    if (command === 'start') {
      redis = await startRedis()
      const env = options.env ? await options.env(redis, dir) : { SWITCHYARD_REDIS_URL: redis.url }
      running = await launch('start', { args: [...args, '--no-auth'], env })
    } else {
      running = await launch('dev', { args })
    }
    const gateway = running.url
    await waitFor(running, 'every pool ready', async () => ((await fetch(`${gateway}/readyz`)).status === 200 ? true : undefined), 90_000)
    await body(running, dir)
  } finally {
    await running?.stop()
    await redis?.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}

/** eventually(), failing with everything `running` printed. */
export async function waitFor<T>(running: Launched, what: string, check: Check<T>, timeoutMs?: number): Promise<T> {
  return eventually(what, check, timeoutMs).catch((error: Error) => {
    throw new Error(`${error.message}\n${running.output()}`)
  })
}

/** POST a run with `Prefer: respond-async`: asserts the 202 and returns its run id. */
export async function submitAsync(running: Launched, workflow: string, input: object): Promise<string> {
  const response = await fetch(`${running.url}/v1/workflows/${workflow}/run`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', prefer: 'respond-async' },
    body: JSON.stringify(input),
  })
  await response.body?.cancel()
  assert.equal(response.status, 202, running.output())
  const runId = response.headers.get('x-switchyard-run-id')
  assert.ok(runId)
  return runId
}

/** A run as GET /v1/runs/{id} answers it (the fields these tests read). */
export interface RunBody {
  readonly status: string
  readonly output?: unknown
  readonly error?: { readonly code: string; readonly message: string }
  readonly finishedAt?: number
  readonly deadline?: string
}

/** GET the run until it has ended (succeeded, failed or cancelled), at most `timeoutMs`. */
export async function runEnded(running: Launched, runId: string, timeoutMs: number): Promise<RunBody> {
  return waitFor(
    running,
    `run ${runId} to end`,
    async () => {
      const body = (await (await fetch(`${running.url}/v1/runs/${runId}`)).json()) as RunBody
      return ['succeeded', 'failed', 'cancelled'].includes(body.status) ? body : undefined
    },
    timeoutMs,
  )
}
