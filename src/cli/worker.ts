// `switchyard worker --pool NAME`: one pool worker process. On Redis (`--redis URL`,
// SWITCHYARD_REDIS_URL from the pool's env file, or its `redis`) it consumes the pool's queue;
// forked by `switchyard dev` (`--ipc`) it is fed by the embedded broker over IPC.
// SIGTERM drains: no new runs, in-flight ones finish, then the process exits 0.
// It never holds the registry cache's key: it reads the compiled registry only when its text
// hashes to SWITCHYARD_COMPILED_SHA256 (its supervisor's, verified under the key), else it
// compiles the registry file itself and writes nothing (DESIGN §2.2, SECURITY.md row 3).
import { spawn } from 'node:child_process'
import { SERVICE, loadRegistry, type Registry } from '../control/index.js'
import { writeResolvedRegistry } from '../control/tooling/index.js'
import { pythonPath, pythonProgram, SAFE_PATH } from '../data/supervisor/index.js'
import { createWorker, workerAllowedHosts } from '../data/worker/index.js'
import { ipcRunSource } from '../data/broker/memory/index.js'
import { redisRunSource, redisQueueDepth, type QueueDepth } from '../data/broker/redis/index.js'
import type { RunSource } from '../data/broker/index.js'
import { secretScrubber } from '../observe/capture/index.js'
import { exporterSettings, initTracing } from '../observe/sdk/index.js'
import { CONFIG_OPTION, configPath, parse, str } from './args.js'
import { runIfMain } from './run-if-main.js'
import { resolveVerifyKeys } from './signing-key.js'

const USAGE = `usage: switchyard worker --pool NAME [--redis URL] [--port N] [--host H] [--config FILE]

Runs one worker process for one pool of the registry (a runtime-python pool:
python3 -m switchyard_worker from the package's python/ folder, on Redis).
  --pool NAME   the pool to serve (required)
  --redis URL   Redis of the pool's queue (default: SWITCHYARD_REDIS_URL, the pool's own
                ACL user; else the pool's redis: in the registry)
  --port N      port of /healthz and /metrics (default 0: any free port, printed)
  --host H      address of /healthz and /metrics (default 127.0.0.1); they answer a Host of
                localhost or an IP address on their port (DNS rebinding), any Host on 0.0.0.0,
                and the names in SWITCHYARD_WORKER_ALLOWED_HOSTS (comma-separated, name or
                name:port, e.g. an SSH tunnel's localhost:9999 or a DNS name; '*' for any)
Env: SWITCHYARD_VERIFY_KEYS (required: the gateway's Ed25519 public key, or several
during a rotation, comma-separated; envelopes must carry a signature by one of them),
SWITCHYARD_MODEL, OTEL_EXPORTER_OTLP_* (this pool's trace export),
SWITCHYARD_COMPILED_SHA256 (set by switchyard dev/start: the compiled registry in
.switchyard/ is read only when it hashes to this; without it the registry file is compiled).`

const OPTIONS = {
  ...CONFIG_OPTION,
  pool: { type: 'string' },
  redis: { type: 'string' },
  ipc: { type: 'boolean' },
  port: { type: 'string' },
  host: { type: 'string' },
} as const

function parsePort(text: string | undefined): number {
  const port = Number(text ?? '0')
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be an integer from 0 to 65535, got '${text}'`)
  return port
}

/**
 * A python pool: `python3 -m switchyard_worker` in the foreground, reading the registry
 * as resolved here (one set of registry rules) and only while it hashes to what was
 * written here, signals passed on; its exit code is ours.
 */
async function runPython(pool: string, registry: Registry, redis: string | undefined): Promise<number> {
  const program = pythonProgram()
  const resolved = writeResolvedRegistry(registry)
  const args = [
    SAFE_PATH,
    '-m',
    'switchyard_worker',
    '--registry',
    resolved.file,
    // It reads the file only while it is the text written here (anyone who can write .switchyard/ could change it).
    '--registry-sha256',
    resolved.sha256,
    '--pool',
    pool,
    '--lifeline',
    ...(redis ? ['--redis', redis] : []),
  ]
  // stdin is the lifeline: if this process is killed outright, the python worker drains and exits too.
  const child = spawn(program.command, args, {
    env: { ...process.env, PYTHONPATH: pythonPath(program, process.env.PYTHONPATH) },
    stdio: ['pipe', 'inherit', 'inherit'],
  })
  const forward = (signal: NodeJS.Signals) => child.kill(signal)
  process.on('SIGTERM', forward)
  process.on('SIGINT', forward)
  try {
    return await new Promise<number>((resolve, reject) => {
      child.once('error', (error) =>
        reject(new Error(`cannot start ${program.command} (set SWITCHYARD_PYTHON to another interpreter): ${error.message}`)),
      )
      child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)))
    })
  } finally {
    process.off('SIGTERM', forward)
    process.off('SIGINT', forward)
  }
}

export async function run(args: string[]): Promise<number> {
  const parsed = parse(args, OPTIONS)
  const values = {
    help: parsed.values.help === true,
    ipc: parsed.values.ipc === true,
    pool: str(parsed, 'pool'),
    redis: str(parsed, 'redis'),
    port: str(parsed, 'port'),
    host: str(parsed, 'host'),
    config: str(parsed, 'config'),
  }
  if (values.help) {
    console.log(USAGE)
    return 0
  }
  if (!values.pool) throw new Error(`--pool NAME is required\n\n${USAGE}`)
  // Without the cache key (issue 12.3): a pool's process never holds it, and executes no cached code.
  // It reads the compiled registry only when its text hashes to what the supervisor verified
  // under the key (SWITCHYARD_COMPILED_SHA256); started alone, it compiles the registry file.
  const registry = loadRegistry(configPath(values.config), {
    cacheTrust: 'none',
    compiledSha256: process.env.SWITCHYARD_COMPILED_SHA256 || undefined,
  })
  const pool = registry.pools.get(values.pool)
  if (!pool) throw new Error(`unknown pool '${values.pool}'; the registry has: ${[...registry.pools.keys()].join(', ')}`)
  // Checked here for python pools too: the same message, before a child process starts.
  const verifyKeys = resolveVerifyKeys(process.env)
  const allowedHosts = workerAllowedHosts(process.env)
  if (pool.runtime === 'python') {
    if (values.ipc) throw new Error(`pool '${pool.name}' has runtime python: switchyard dev starts its worker itself`)
    return runPython(pool.name, registry, values.redis)
  }
  if (pool.runtime !== 'node') throw new Error(`pool '${pool.name}' has runtime ${pool.runtime}: the node worker does not serve it`)
  const port = parsePort(values.port)

  let source: RunSource
  let depth: QueueDepth | undefined
  let queueDepth: (() => Promise<number> | number) | undefined
  if (values.ipc) {
    const ipc = ipcRunSource()
    source = ipc
    queueDepth = () => ipc.queued()
  } else {
    // The pool's own credentials (its env file's ACL user) come before the registry's URL, which every pool can read.
    const url = values.redis ?? (process.env.SWITCHYARD_REDIS_URL || undefined) ?? pool.redis
    if (!url)
      throw new Error("no Redis: pass --redis URL or set SWITCHYARD_REDIS_URL (or use 'npx switchyard dev' for the embedded broker)")
    source = redisRunSource(pool.name, { url })
    depth = redisQueueDepth(pool.name, url)
    queueDepth = () => depth!.read()
  }

  // Without an export destination nothing would be recorded: leave the OTel API a no-op
  // rather than pay for a context manager (AsyncLocalStorage) on every promise.
  const exporting = exporterSettings(process.env) !== undefined && process.env.OTEL_SDK_DISABLED?.trim().toLowerCase() !== 'true'
  const tracing = exporting
    ? initTracing({
        service: SERVICE.pool(pool.name),
        pool: pool.name,
        project: pool.tracing.project,
        env: process.env,
        tracing: pool.tracing,
        secrets: secretScrubber(process.env, pool.secrets),
      })
    : { endpoint: undefined, shutdown: async () => undefined }
  const worker = createWorker({
    pool: pool.name,
    registry,
    source,
    verifyKeys,
    port,
    host: values.host,
    allowedHosts,
    queueDepth,
  })
  await worker.start()
  console.log(
    `switchyard worker: pool ${pool.name}, pid ${process.pid}, concurrency ${pool.concurrency}; ` +
      `${worker.url}/healthz ${worker.url}/metrics${tracing.endpoint ? `; traces → ${tracing.endpoint}` : ''}`,
  )

  await new Promise<void>((resolve) => {
    let stopping = false
    const stop = (how: 'drain' | 'close') => {
      if (stopping) return
      stopping = true
      const done = how === 'drain' ? worker.drain() : worker.close()
      void done
        .catch((error: unknown) => console.error(`switchyard worker: ${(error as Error).message}`))
        .then(() => depth?.close())
        .then(() => tracing.shutdown())
        .catch(() => undefined)
        .then(resolve)
    }
    process.once('SIGTERM', () => stop('drain'))
    process.once('SIGINT', () => stop('drain'))
    // Forked by a supervisor: never outlive it. Over IPC nobody can take results any more
    // (stop now); on Redis the results still land, so finish what is in flight.
    if (process.send) process.once('disconnect', () => stop(values.ipc ? 'close' : 'drain'))
  })
  // The IPC channel to a supervisor would keep this process alive (as the gateway's does):
  // under `start` every worker waited out the supervisor's 10 s and was killed.
  if (process.connected) process.disconnect()
  return 0
}

// Forked directly by the supervisor (`fork(.../cli/worker.js, args)`), not via main.
runIfMain(import.meta.url, run, 'worker')
