// `switchyard dev`: everything on this machine, nothing installed. The embedded
// MemoryBroker and the gateway live in this process; each pool's workers (node, and
// Python through `python3 -m switchyard_worker`) are child processes fed over IPC,
// restarted with backoff when they crash. A status
// table prints at start, when it changes, and on SIGUSR2. SIGINT/SIGTERM stop it all.
// `switchyard start` (start.ts) is the same on Redis.
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { SERVICE, loadRegistry } from '../control/index.js'
import type { Pool, Registry } from '../control/index.js'
import type { Broker, PoolStats } from '../data/broker/index.js'
import { verifyKeysFor } from '../data/index.js'
import { MemoryBroker } from '../data/broker/memory/index.js'
import { devUsersNote, probePython, pythonProgram, startSupervisor, type SupervisorOptions } from '../data/supervisor/index.js'
import {
  admissionOptionsFromEnv,
  allowedHostsFromEnv,
  connectionOptionsFromEnv,
  fullPrivilegeTokens,
  ingestToken,
  newIngestSecret,
  parseTokens,
  startGateway,
  type TokenEntry,
} from '../gateway/index.js'
import { captureByPool, exporterSettings, initTracing, StoreSpanExporter } from '../observe/sdk/index.js'
import { CONFIG_OPTION, configPath, parse } from './args.js'
import { tryItLines } from './dev-hints.js'
import { registryChanges, registryHint, watchFolder } from './dev-watch.js'
import { describeTokens } from './gateway.js'
import { runIfMain } from './run-if-main.js'
import { SIGNING_KEY_OPTION, resolveSigningKey } from './signing-key.js'

export const SERVE_OPTIONS = {
  ...CONFIG_OPTION,
  ...SIGNING_KEY_OPTION,
  port: { type: 'string' },
  host: { type: 'string' },
  'status-interval': { type: 'string' },
} as const

const DEV_OPTIONS = { ...SERVE_OPTIONS, watch: { type: 'boolean' } } as const

const USAGE = `usage: switchyard dev [--config FILE] [--port 7070] [--host 127.0.0.1] [--watch]
                      [--signing-key FILE]

Runs the gateway, the embedded broker and every pool's worker processes (node,
and python3 -m switchyard_worker for runtime: python pools).
The gateway is open (no auth) unless SWITCHYARD_TOKENS is set: keep it on loopback.
It answers only Host localhost, 127.0.0.1, [::1] and its address (DNS rebinding);
SWITCHYARD_GATEWAY_ALLOWED_HOSTS lists more names (comma-separated; '*' for any).
  --port N               gateway port (default PORT or 7070; 0 = any free port)
  --host H               gateway address (default 127.0.0.1)
  --status-interval MS   how often the status table is checked for changes (default 2000)
  --watch                reload the registry and the graph modules when a file under the
                         registry's folder changes: pools restart, in-flight runs finish first
  --signing-key FILE     Ed25519 private key envelopes are signed with (default
                         SWITCHYARD_SIGNING_KEY_FILE, else a key made for this session);
                         workers get only its public key (SWITCHYARD_VERIFY_KEYS)
SIGUSR2 prints the status table; SIGINT/SIGTERM drain the workers and stop.`

export interface ServeArgs {
  readonly help: boolean
  readonly config: string
  readonly port: number
  readonly host: string
  readonly statusIntervalMs: number
  /** --signing-key FILE, when given. */
  readonly signingKey: string | undefined
}

/** Parse the options `dev` and `start` share (plus any extra the caller declares). */
export function serveArgs(values: Record<string, unknown>): ServeArgs {
  const text = (name: string) => (typeof values[name] === 'string' ? (values[name] as string) : undefined)
  const port = Number(text('port') ?? process.env.PORT ?? '7070')
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`--port must be an integer from 0 to 65535, got '${text('port')}'`)
  const statusIntervalMs = Number(text('status-interval') ?? '2000')
  if (!Number.isFinite(statusIntervalMs) || statusIntervalMs < 100) throw new Error('--status-interval must be at least 100 (ms)')
  return {
    help: values.help === true,
    config: configPath(text('config')),
    port,
    host: text('host') ?? '127.0.0.1',
    statusIntervalMs,
    signingKey: text('signing-key'),
  }
}

/**
 * The worker program the supervisor forks: cli/worker beside this file. Built (dist/),
 * and for a registry whose graphs are all JavaScript, it starts without a loader: booting
 * tsx costs every worker start a few hundred ms of CPU, paid again on each restart after
 * a crash, on the cores the other pools and the gateway share. TypeScript graphs, or
 * running from sources (.ts), need tsx from the start (registering it later, on the first
 * .ts graph, loads a graph of a package without "type": "module" as CommonJS).
 */
export function workerProgram(registry: Registry): { module: string; execArgv: string[] } {
  const here = fileURLToPath(import.meta.url)
  const module = here.replace(/dev\.(ts|js)$/, 'worker.$1')
  const typeScript = [...registry.workflows.values()].some((workflow) => /\.[mc]?tsx?$/.test(workflow.graph.module))
  if (module.endsWith('.js') && !typeScript) return { module, execArgv: [] }
  return { module, execArgv: ['--import', import.meta.resolve('tsx')] }
}

export interface ServeOptions {
  readonly name: 'dev' | 'start'
  readonly args: ServeArgs
  readonly registry: Registry
  readonly broker: Broker
  readonly supervisorBroker: SupervisorOptions['broker']
  /** Extra worker args per pool (`--ipc`, or `--redis URL`). */
  readonly workerArgs: (pool: Pool) => string[]
  readonly extraEnv?: Readonly<Record<string, string>>
  /** The Redis pools share (start --redis): only a pool with no Redis credentials of its own gets it. */
  readonly sharedRedis?: string
  /** Bearer tokens the gateway accepts, with their scopes; null = open. */
  readonly tokens: readonly TokenEntry[] | null
  /**
   * Serve runtime-python pools with `python3 -m switchyard_worker`: true, or why it
   * cannot (see pythonSupport()); absent when the registry has no python pool.
   */
  readonly python?: true | { readonly unavailable: string }
  /**
   * Reload on every change under the registry's folder (`dev --watch`, memory broker only):
   * `configure` hands the reloaded registry's pools to the broker.
   */
  readonly watch?: { readonly configure: (registry: Registry) => void }
}

/** Gateway + supervisor until SIGINT/SIGTERM; resolves with the exit code. */
export async function serve(options: ServeOptions): Promise<number> {
  const { broker, args } = options
  let registry = options.registry
  // Listened for before anything starts: a Ctrl-C during start-up stops it cleanly too.
  const stopRequested = new Promise<void>((resolve) => {
    process.once('SIGINT', resolve)
    process.once('SIGTERM', resolve)
  })
  const { key: signingKey, notes } = resolveSigningKey({ flag: args.signingKey, env: process.env, ephemeral: true })
  if (options.supervisorBroker.kind === 'memory') reportCrash(options.name, broker)
  const traceDir = join(registry.root, '.switchyard', 'traces')
  // Each pool's processes send their spans with a credential that writes its own project only.
  const ingestSecret = newIngestSecret()
  const tokens = options.tokens
  const gateway = await startGateway({
    registry,
    broker,
    host: args.host,
    port: args.port,
    tokens,
    ingestSecret,
    signingKey,
    traceDir,
    connections: connectionOptionsFromEnv(process.env),
    admission: admissionOptionsFromEnv(process.env),
    allowedHosts: allowedHostsFromEnv(process.env),
    // Without --watch, a workflow added to the file since the start gets told to restart.
    ...(options.watch ? {} : { unknownWorkflowHint: registryHint(args.config, registry) }),
  })
  const traceEnv = { SWITCHYARD_TRACES_URL: gateway.url }
  // The gateway's spans of a run belong to that run's pool: its capture mode applies to them.
  const env = { ...process.env, ...traceEnv }
  // Spans bound for this gateway's own receiver go straight into its store: no OTLP round trip to itself.
  const store = exporterSettings(env)?.url === `${gateway.url}/v1/traces` ? gateway.traceStore : null
  const direct = store ? { exporter: new StoreSpanExporter(store) } : {}
  // Resolved per span from the current registry: a reload brings new pools' capture modes.
  let capture = captureByPool(registry.pools.values())
  const tracing = initTracing({ service: SERVICE.gateway, env, tracing: (span) => capture(span), ...direct })
  const supervise = (current: Registry, program = workerProgram(current)) =>
    startSupervisor({
      registry: current,
      broker: options.supervisorBroker,
      worker: { module: program.module, execArgv: program.execArgv, args: (pool) => ['--pool', pool.name, ...options.workerArgs(pool)] },
      verifyKeys: verifyKeysFor(signingKey),
      ...(options.python === true ? { python: pythonProgram() } : {}),
      tracesUrl: gateway.url,
      ...(options.extraEnv ? { extraEnv: options.extraEnv } : {}),
      poolEnv: (pool) => ({ SWITCHYARD_TRACES_TOKEN: ingestToken(ingestSecret, pool.name) }),
      sharedRedis: options.sharedRedis ?? null,
    })
  let supervisor = supervise(registry)
  console.log(`switchyard ${options.name}: gateway ${gateway.url} · registry ${registry.source} (${registry.digest.slice(0, 19)}…)`)
  console.log(`switchyard ${options.name}: traces ${gateway.url}/ · workers log below as [pool pid]`)
  for (const note of notes) console.log(`switchyard ${options.name}: ${note}`)
  announce({ ...options, how: options.supervisorBroker.kind === 'memory' ? 'over IPC' : 'on Redis' })
  const status = await statusLoop({ ...options, url: gateway.url, table: () => supervisor.table() })

  // --watch: one reload at a time; the new workers start before the old ones drain, so runs
  // keep flowing, and a run in flight finishes on the code it started with.
  let reloading: Promise<void> = Promise.resolve()
  let stopped = false
  const reload = async (files: string[]) => {
    if (stopped || options.watch === undefined) return
    const what = files.length === 1 ? files[0] : `${files.length} files`
    let next: Registry
    try {
      // Every workflow checked now: a broken one keeps the pools on the last registry.
      next = loadRegistry(args.config, { check: 'load' })
    } catch (error) {
      console.error(
        `switchyard ${options.name}: ${what} changed; the registry does not load, so the pools keep the last one:\n${(error as Error).message}`,
      )
      return
    }
    const before = registry
    const old = supervisor
    options.watch.configure(next)
    gateway.reload(next)
    capture = captureByPool(next.pools.values())
    registry = next
    supervisor = supervise(next)
    const pools = [...next.pools.keys()].join(', ')
    console.log(
      `switchyard ${options.name}: reloaded after ${what} changed (${registryChanges(before, next)}): pools ${pools} restarted; runs in flight finish on the old workers`,
    )
    await old.stop()
  }
  const watcher = options.watch
    ? watchFolder(registry.root, (files) => (reloading = reloading.then(() => reload(files))), {
        onLimit: (max) =>
          console.log(
            `switchyard ${options.name}: more than ${max} files under ${registry.root}: --watch looks at the first ${max} (in name order); a registry in a folder of its own is watched whole`,
          ),
      })
    : undefined

  await stopRequested
  console.log(`switchyard ${options.name}: stopping (workers finish their runs first)…`)
  stopped = true
  watcher?.close()
  await reloading
  status.stop()
  // Workers flush their spans to the gateway as they drain, so it closes last; a failed
  // final export loses spans, never the exit code.
  await supervisor.stop()
  await tracing.shutdown().catch((error: unknown) => console.error(`switchyard ${options.name}: trace export: ${(error as Error).message}`))
  await gateway.close()
  await broker.close()
  console.log(`switchyard ${options.name}: stopped`)
  return 0
}

/** The auth line and one line per python pool: how each is served (`how`: over IPC, on Redis). */
export function announce(options: {
  readonly name: string
  readonly args: ServeArgs
  readonly registry: Registry
  readonly tokens: readonly TokenEntry[] | null
  readonly python?: ServeOptions['python']
  readonly how: string
}): void {
  if (options.tokens === null) {
    const where = isLoopback(options.args.host) ? 'loopback only' : `${options.args.host}: ANYONE WHO REACHES THIS PORT CAN RUN WORKFLOWS`
    console.log(`switchyard ${options.name}: auth is OFF (${where}); set SWITCHYARD_TOKENS to require bearer tokens`)
  } else {
    console.log(`switchyard ${options.name}: ${describeTokens(options.tokens)}`)
  }
  for (const pool of options.registry.pools.values()) {
    if (pool.runtime !== 'python') continue
    const python = options.python
    console.log(
      python === true
        ? `switchyard ${options.name}: pool '${pool.name}' has runtime python: served by python3 -m switchyard_worker ${options.how}`
        : `switchyard ${options.name}: pool '${pool.name}' has runtime python: NOT served (its runs are refused with 503): ${python?.unavailable ?? 'no python worker'}`,
    )
  }
}

/**
 * The status table now, then when it changes (every `statusIntervalMs`) and on SIGUSR2;
 * in between, once every pool has a worker (or after READY_WAIT_MS), the commands to try.
 */
export async function statusLoop(options: {
  readonly name: string
  readonly args: ServeArgs
  readonly registry: Registry
  readonly broker: Broker
  readonly tokens: readonly TokenEntry[] | null
  readonly url: string
  readonly table: () => Promise<string>
}): Promise<{ stop(): void }> {
  let last = ''
  const print = async (force: boolean) => {
    const table = await options.table()
    if (force || table !== last) console.log(`\n${table}\n`)
    last = table
  }
  await print(true)
  // A run for a pool whose worker is still starting is refused (503): the commands to paste come once they can work.
  if (!(await readyWithin(options.broker, READY_WAIT_MS))) {
    console.log(
      `switchyard ${options.name}: not every pool has a live worker after ${READY_WAIT_MS / 1000} s; runs for those get 503 until one is up`,
    )
  }
  for (const line of tryItLines({ registry: options.registry, url: options.url, auth: options.tokens !== null })) console.log(line)
  console.log('')
  const ticker = setInterval(() => void print(false).catch(() => undefined), options.args.statusIntervalMs)
  const onUsr2 = () => void print(true).catch(() => undefined)
  process.on('SIGUSR2', onUsr2)
  return {
    stop() {
      clearInterval(ticker)
      process.off('SIGUSR2', onUsr2)
    },
  }
}

/**
 * `dev` is one process: an uncaught error anywhere in it (a gateway bug, say) ends the
 * gateway, the embedded broker and every run the broker holds. Say so, with what was
 * lost and what survives a crash, on stderr, and exit 1, rather than leave a bare stack.
 */
function reportCrash(name: string, broker: Broker): void {
  let crashed = false
  process.on('uncaughtException', (error, origin) => {
    if (crashed) return
    crashed = true
    const what = error instanceof Error ? (error.stack ?? error.message) : String(error)
    const write = (stats: readonly PoolStats[] | null) => {
      const queued = stats?.reduce((sum, s) => sum + s.queued, 0)
      const running = stats?.reduce((sum, s) => sum + s.running, 0)
      const runs = stats ? `${queued} queued and ${running} running runs` : 'every queued and running run'
      try {
        process.stderr.write(
          [
            ``,
            `switchyard ${name}: CRASHED: an uncaught error (${origin}) in the process that holds the gateway and the embedded broker:`,
            what,
            ``,
            `switchyard ${name}: it exits now, and with it:`,
            `  - ${runs}: the embedded broker keeps runs in this process's memory only, so they are lost (no worker will run them; after a restart GET /v1/runs/{id} does not know them)`,
            `  - every caller waiting for a run (its connection drops), and spans not yet written to .switchyard/traces`,
            `  - the pools' worker processes (they stop when this process goes)`,
            `For runs that survive a crash use switchyard start --redis URL: there the gateway is a child process that is started again on the same port, the pools keep running, and queued runs wait in Redis (SECURITY.md).`,
            ``,
          ].join('\n'),
        )
      } finally {
        process.exit(1)
      }
    }
    // The memory broker answers at once; a bound all the same, so that the report always comes.
    const late = new Promise<null>((resolve) => setTimeout(() => resolve(null), 1000))
    void Promise.race([broker.stats(), late]).then(write, () => write(null))
  })
}

/** How long dev/start wait for every pool's first worker before printing the commands to try. */
const READY_WAIT_MS = 30_000

async function readyWithin(broker: Broker, ms: number): Promise<boolean> {
  const until = Date.now() + ms
  while (Date.now() < until) {
    if (await broker.ready().catch(() => false)) return true
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return false
}

/** Whether this machine can serve the registry's python pools: true, why not, or undefined (no python pool). */
export function pythonSupport(registry: Registry): ServeOptions['python'] {
  if (![...registry.pools.values()].some((pool) => pool.runtime === 'python')) return undefined
  const unavailable = probePython(pythonProgram())
  return unavailable === null ? true : { unavailable }
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.')
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parse(argv, DEV_OPTIONS)
  const args = serveArgs(parsed.values)
  if (args.help) {
    console.log(USAGE)
    return 0
  }
  // A server does not start on a broken registry: every workflow checked now, every problem at once.
  const registry = loadRegistry(args.config, { check: 'load' })
  const usersNote = devUsersNote(registry)
  if (usersNote) console.log(`switchyard dev: ${usersNote}`)
  const python = pythonSupport(registry)
  // A python pool is served when its worker can start here; else its runs get 503 at once, not a 504 later.
  const served = (current: Registry) =>
    [...current.pools.values()].map((pool) => ({ ...pool, served: pool.runtime === 'node' || python === true }))
  const broker = new MemoryBroker({ pools: served(registry) })
  return serve({
    name: 'dev',
    args,
    registry,
    broker,
    supervisorBroker: { kind: 'memory', broker },
    workerArgs: () => ['--ipc'],
    ...(python ? { python } : {}),
    ...(parsed.values.watch === true ? { watch: { configure: (next: Registry) => broker.configure(served(next)) } } : {}),
    // Open by default on loopback; SWITCHYARD_TOKENS turns auth on.
    tokens: process.env.SWITCHYARD_TOKENS ? fullPrivilegeTokens(parseTokens(process.env.SWITCHYARD_TOKENS)) : null,
  })
}

// Lets tests and scripts run `node --import tsx src/cli/dev.ts` without the bin.
runIfMain(import.meta.url, run, 'dev')
