// `switchyard start --redis URL`: `switchyard dev` on Redis, for production. This process
// is the supervisor only: it forks the gateway (`switchyard gateway --supervised`) and
// each pool's worker processes as children of its own. A gateway that dies (a bug, its
// heap, kill -9) is forked again on the same port with backoff, and the pools keep
// serving their queues meanwhile: their workers consume Redis directly (a pool's `redis`
// URL in the registry, with its own ACL user, wins over --redis).
// SIGINT/SIGTERM stop the gateway first (no new runs; waiting callers are answered),
// then the pools (in-flight runs finish).
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadRegistry } from '../control/index.js'
import { RedisBroker, redactUrl } from '../data/broker/redis/index.js'
import { signingKeyPem, verifyKeysFor } from '../data/index.js'
import {
  openCpuPolicy,
  preparePoolUsers,
  pythonProgram,
  renderGatewayStatus,
  startGatewayProcess,
  startSupervisor,
} from '../data/supervisor/index.js'
import { admissionOptionsFromEnv, allowedHostsFromEnv, connectionOptionsFromEnv, ingestToken, newIngestSecret } from '../gateway/index.js'
import { parse, str } from './args.js'
import { resolveTokens } from './gateway.js'
import { runIfMain } from './run-if-main.js'
import { SERVE_OPTIONS, announce, pythonSupport, serveArgs, statusLoop, workerProgram } from './dev.js'
import { resolveSigningKey } from './signing-key.js'

const USAGE = `usage: switchyard start --redis URL [--config FILE] [--port 7070] [--host 127.0.0.1]
                        [--tokens-file FILE | --no-auth] [--signing-key FILE] [--require-users]

Runs the gateway and every node pool's worker processes on Redis (BullMQ), each a
child process of this one: a gateway that dies is started again on the same port,
and the pools keep serving their queues meanwhile.
  --redis URL   Redis for pools without their own (default SWITCHYARD_REDIS_URL)
  --port N      gateway port (default PORT or 7070)
  --host H      gateway address (default 127.0.0.1)
  --tokens-file FILE  bearer tokens, one per line (default: SWITCHYARD_TOKENS, comma-separated)
  --no-auth     run the gateway open (anyone who reaches the port can run workflows)
  --signing-key FILE  Ed25519 private key envelopes are signed with (default
                SWITCHYARD_SIGNING_KEY_FILE, else a key made for this session, printed);
                workers get only its public key (SWITCHYARD_VERIFY_KEYS)
  --require-users  refuse to start unless every pool runs as an OS user of its own
                (user: in switchyard.yaml; start must run as root to switch users)
Redis must run with maxmemory-policy noeviction.
SIGUSR2 prints the status table; SIGINT/SIGTERM stop the gateway, then drain the pools.`

/** The gateway program start forks: cli/gateway beside this file (.ts under tsx, .js when built). */
function gatewayProgram(): { module: string; execArgv: string[] } {
  const here = fileURLToPath(import.meta.url)
  const module = here.replace(/start\.(ts|js)$/, 'gateway.$1')
  return { module, execArgv: module.endsWith('.ts') ? ['--import', import.meta.resolve('tsx')] : [] }
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parse(argv, {
    ...SERVE_OPTIONS,
    redis: { type: 'string' },
    'tokens-file': { type: 'string' },
    'no-auth': { type: 'boolean' },
    'require-users': { type: 'boolean' },
  })
  const args = serveArgs(parsed.values)
  if (args.help) {
    console.log(USAGE)
    return 0
  }
  const url = typeof parsed.values.redis === 'string' ? parsed.values.redis : process.env.SWITCHYARD_REDIS_URL
  if (!url) throw new Error(`--redis URL (or SWITCHYARD_REDIS_URL) is required\n\n${USAGE}`)
  const tokensFile = str(parsed, 'tokens-file')
  const noAuth = parsed.values['no-auth'] === true
  // Checked here too, so that a bad tokens file or a missing token fails before anything starts.
  const tokens = resolveTokens({ tokensFile, noAuth, env: process.env })
  // And the gateway's SWITCHYARD_GATEWAY_* settings, which its forked process reads from the same env.
  connectionOptionsFromEnv(process.env)
  admissionOptionsFromEnv(process.env)
  allowedHostsFromEnv(process.env)
  // A server does not start on a broken registry: every workflow checked now, every problem at once.
  const registry = loadRegistry(args.config, { check: 'load' })
  // Each pool's user: (as root), said loudly per pool where it cannot hold.
  const users = preparePoolUsers(registry, { require: parsed.values['require-users'] === true })
  for (const line of users.lines) console.log(`switchyard start: ${line}`)
  const python = pythonSupport(registry)
  // Listened for before anything starts: a Ctrl-C during start-up stops it cleanly too.
  let stopping = false
  const stopRequested = new Promise<void>((resolve) => {
    const stop = () => {
      stopping = true
      resolve()
    }
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  })
  const { key: signingKey, notes } = resolveSigningKey({ flag: args.signingKey, env: process.env, ephemeral: true })
  // Each pool's processes send their spans with a credential that writes its own project only.
  const ingestSecret = newIngestSecret()
  // This process's own connection: the status table's queue figures and readiness.
  const broker = await RedisBroker.connect({ registry, url })
  console.log(`switchyard start: Redis ${redactUrl(url)}`)

  const program = gatewayProgram()
  let port = args.port
  const gateway = await startGatewayProcess({
    module: program.module,
    execArgv: program.execArgv,
    args: [
      '--config',
      registry.source,
      '--host',
      args.host,
      '--trace-dir',
      join(registry.root, '.switchyard', 'traces'),
      ...(noAuth ? ['--no-auth'] : tokensFile !== undefined ? ['--tokens-file', tokensFile] : []),
    ],
    port: args.port,
    // The operator's env (SWITCHYARD_TOKENS among it); the producer's URL here, not in argv,
    // where any user of the machine could read it.
    env: { ...process.env, SWITCHYARD_REDIS_URL: url },
    secrets: { signingKey: signingKeyPem(signingKey), ingestSecret },
    onEvent: (event) => {
      if (event.type === 'exit' && !event.expected) {
        const how = event.signal ? `signal ${event.signal}` : `code ${event.code}`
        console.error(`switchyard start: the gateway (pid ${event.pid}) exited unexpectedly (${how}); the pools keep running`)
      } else if (event.type === 'restart') {
        console.error(`switchyard start: restarting the gateway on port ${port} in ${event.delayMs}ms (restart ${event.restarts})`)
      } else if (event.type === 'listening') {
        port = event.port
        if (event.restarts > 0)
          console.error(`switchyard start: the gateway is back on ${event.url} (pid ${event.pid}, restart ${event.restarts})`)
      }
    },
  }).catch(async (error: unknown) => {
    await broker.close()
    throw error
  })
  const worker = workerProgram(registry)
  // A pool that crashes or blocks its loop must not take the CPU the gateway, Redis and its neighbours need.
  const cpu = openCpuPolicy({
    pools: [...registry.pools.keys()],
    caps: new Map([...registry.pools.values()].flatMap((pool) => (pool.cpuCores === null ? [] : [[pool.name, pool.cpuCores] as const]))),
    quietMs: 10_000,
    ...(process.env.SWITCHYARD_CPU_CGROUP !== undefined ? { setting: process.env.SWITCHYARD_CPU_CGROUP } : {}),
    warn: (message) => console.error(`switchyard start: ${message}`),
  })
  console.log(`switchyard start: CPU: ${cpu.description}`)
  const supervisor = startSupervisor({
    cpu,
    registry,
    broker: { kind: 'redis', broker },
    worker: { module: worker.module, execArgv: worker.execArgv, args: (pool) => ['--pool', pool.name] },
    verifyKeys: verifyKeysFor(signingKey),
    ...(python === true ? { python: pythonProgram() } : {}),
    tracesUrl: gateway.url,
    poolEnv: (pool) => ({ SWITCHYARD_TRACES_TOKEN: ingestToken(ingestSecret, pool.name) }),
    // The producer's URL: only pools with no Redis credentials of their own get it (with a warning).
    sharedRedis: url,
    users: users.identities,
  })
  const pid = gateway.status().pid
  console.log(`switchyard start: gateway ${gateway.url} · registry ${registry.source} (${registry.digest.slice(0, 19)}…)`)
  console.log(`switchyard start: traces ${gateway.url}/ · workers log below as [pool pid], the gateway as [gateway pid]`)
  console.log(`switchyard start: gateway process ${pid}: if it dies it is started again on port ${gateway.port}; the pools keep running`)
  for (const note of notes) console.log(`switchyard start: ${note}`)
  const options = { name: 'start', args, registry, broker, tokens, ...(python ? { python } : {}) }
  announce({ ...options, how: 'on Redis' })
  const status = stopping
    ? { stop: () => undefined }
    : await statusLoop({
        ...options,
        url: gateway.url,
        table: async () => `${await supervisor.table()}\n${renderGatewayStatus(gateway.status())}`,
      })

  await stopRequested
  console.log('switchyard start: stopping: the gateway first, then the pools (workers finish their runs)…')
  status.stop()
  await gateway.stop()
  await supervisor.stop()
  cpu.close()
  await broker.close()
  console.log('switchyard start: stopped')
  return 0
}

runIfMain(import.meta.url, run, 'start')
