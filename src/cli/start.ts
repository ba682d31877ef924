// `switchyard start --redis URL`: `switchyard dev` on Redis. The gateway submits to
// BullMQ; each pool's worker processes consume their own queue directly (a pool's
// `redis` URL in the registry, with its own ACL user, wins over --redis).
import { loadRegistry } from '../control/index.js'
import { RedisBroker, redactUrl } from '../data/broker/redis/index.js'
import { parse, str } from './args.js'
import { resolveTokens } from './gateway.js'
import { runIfMain } from './run-if-main.js'
import { SERVE_OPTIONS, pythonSupport, serve, serveArgs } from './dev.js'

const USAGE = `usage: switchyard start --redis URL [--config FILE] [--port 7070] [--host 127.0.0.1]
                        [--tokens-file FILE | --no-auth] [--signing-key FILE]

Runs the gateway and every node pool's worker processes on Redis (BullMQ).
  --redis URL   Redis for pools without their own (default SWITCHYARD_REDIS_URL)
  --port N      gateway port (default PORT or 7070)
  --host H      gateway address (default 127.0.0.1)
  --tokens-file FILE  bearer tokens, one per line (default: SWITCHYARD_TOKENS, comma-separated)
  --no-auth     run the gateway open (anyone who reaches the port can run workflows)
  --signing-key FILE  Ed25519 private key envelopes are signed with (default
                SWITCHYARD_SIGNING_KEY_FILE, else a key made for this session, printed);
                workers get only its public key (SWITCHYARD_VERIFY_KEYS)
Redis must run with maxmemory-policy noeviction.`

export async function run(argv: string[]): Promise<number> {
  const parsed = parse(argv, {
    ...SERVE_OPTIONS,
    redis: { type: 'string' },
    'tokens-file': { type: 'string' },
    'no-auth': { type: 'boolean' },
  })
  const args = serveArgs(parsed.values)
  if (args.help) {
    console.log(USAGE)
    return 0
  }
  const url = typeof parsed.values.redis === 'string' ? parsed.values.redis : process.env.SWITCHYARD_REDIS_URL
  if (!url) throw new Error(`--redis URL (or SWITCHYARD_REDIS_URL) is required\n\n${USAGE}`)
  const tokens = resolveTokens({ tokensFile: str(parsed, 'tokens-file'), noAuth: parsed.values['no-auth'] === true, env: process.env })
  const registry = loadRegistry(args.config)
  const python = pythonSupport(registry)
  const broker = await RedisBroker.connect({ registry, url })
  console.log(`switchyard start: Redis ${redactUrl(url)}`)
  return serve({
    name: 'start',
    args,
    registry,
    broker,
    supervisorBroker: { kind: 'redis', broker },
    workerArgs: () => [],
    // The producer's URL: only pools with no Redis credentials of their own get it (with a warning).
    sharedRedis: url,
    tokens,
    // Runtime-python pools get python3 -m switchyard_worker processes, when this machine has it.
    ...(python ? { python } : {}),
  })
}

runIfMain(import.meta.url, run, 'start')
