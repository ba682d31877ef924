// The gateway as a child of `switchyard start`'s supervisor (issue 12.1): a crash of the
// gateway (a bug, its heap, a kill -9) no longer takes the pools with it. The workers are
// the supervisor's children, not the gateway's, so they keep serving their queues; the
// gateway is forked again with backoff on the port it first bound, so callers find it
// where it was. Its secrets (signing key, ingest secret) go over IPC (gateway-protocol.ts).
import { fork, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { isGatewayListeningMessage, type GatewayStartMessage } from './gateway-protocol.js'
import { restartDelay } from './status.js'

export type GatewayEvent =
  | { readonly type: 'listening'; readonly pid: number; readonly url: string; readonly port: number; readonly restarts: number }
  | {
      readonly type: 'exit'
      readonly pid: number
      readonly code: number | null
      readonly signal: string | null
      readonly expected: boolean
    }
  | { readonly type: 'restart'; readonly delayMs: number; readonly restarts: number }

export interface GatewayProcessOptions {
  /** The gateway program (cli/gateway), forked with `--supervised`. */
  readonly module: string
  readonly execArgv?: readonly string[]
  /** Its arguments, without --port and --supervised (added here). */
  readonly args: readonly string[]
  /** The first start's port (0: any free one); every restart uses the port that one bound. */
  readonly port: number
  /** Its environment (the operator's: the gateway is trusted). */
  readonly env: Readonly<Record<string, string | undefined>>
  /** Sent over IPC before it starts, to every gateway process of this session. */
  readonly secrets: Omit<GatewayStartMessage, 'type' | 'restarts'>
  /** @default { initialMs: 250, maxMs: 10000, resetAfterMs: 10000 } */
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number; readonly resetAfterMs: number }
  /** Grace for SIGTERM on stop before SIGKILL. @default 15000 (the gateway's own close grace is 5 s) */
  readonly stopTimeoutMs?: number
  /** Each line the gateway writes. @default to stderr, prefixed with `[gateway pid]` */
  readonly output?: (pid: number, line: string) => void
  readonly onEvent?: (event: GatewayEvent) => void
}

export interface GatewayStatus {
  readonly pid: number | null
  readonly url: string
  /** Listening now. */
  readonly up: boolean
  /** Times it died and was started again. */
  readonly restarts: number
  /** How the last one ended (`signal SIGKILL`, `code 1`), or null. */
  readonly lastExit: string | null
  /** `restarting in 500ms` while waiting, else ''. */
  readonly note: string
}

export interface GatewayProcess {
  /** The gateway's URL: the same across restarts. */
  readonly url: string
  readonly port: number
  status(): GatewayStatus
  /** SIGTERM the gateway (it answers callers still waiting, within its grace), SIGKILL after the timeout; no restarts. */
  stop(): Promise<void>
}

const DEFAULT_BACKOFF = { initialMs: 250, maxMs: 10_000, resetAfterMs: 10_000 }

const describeExit = (code: number | null, signal: string | null) => (signal ? `signal ${signal}` : `code ${code}`)

/**
 * Fork the gateway and resolve once it listens. Rejects when the first one cannot start
 * (a taken port, an unreachable Redis, a bad tokens file: what it printed is in the
 * error); after that, a gateway that dies is started again until stop().
 *
 * @example
 * const gateway = await startGatewayProcess({ module, args: ['--config', path], port: 7070, env: process.env,
 *   secrets: { signingKey: signingKeyPem(key), ingestSecret } })
 * console.log(gateway.url)
 */
export async function startGatewayProcess(options: GatewayProcessOptions): Promise<GatewayProcess> {
  const backoff = options.backoff ?? DEFAULT_BACKOFF
  const emit = options.onEvent ?? (() => undefined)
  const output = options.output ?? ((pid, line) => process.stderr.write(`[gateway ${pid}] ${line}\n`))
  let child: ChildProcess | null = null
  let listening = false
  let port = options.port
  let url = ''
  let restarts = 0
  let consecutive = 0
  let startedAt = 0
  let lastExit: string | null = null
  let timer: NodeJS.Timeout | null = null
  let note = ''
  let stopping = false
  let first: { resolve: () => void; reject: (error: Error) => void } | null = null

  function spawnGateway(): void {
    if (stopping) return
    startedAt = Date.now()
    listening = false
    note = ''
    const recent: string[] = []
    const proc = fork(options.module, [...options.args, '--port', String(port), '--supervised'], {
      env: options.env,
      execArgv: [...(options.execArgv ?? [])],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    })
    child = proc
    const pid = proc.pid ?? 0
    for (const stream of [proc.stdout, proc.stderr]) {
      if (!stream) continue
      createInterface({ input: stream }).on('line', (line) => {
        recent.push(line)
        if (recent.length > 20) recent.shift()
        output(pid, line)
      })
    }
    proc.on('error', (error) => output(pid, `IPC: ${error.message}`))
    proc.on('message', (message) => {
      if (!isGatewayListeningMessage(message) || proc !== child) return
      listening = true
      port = message.port
      url = message.url
      emit({ type: 'listening', pid, url, port, restarts })
      first?.resolve()
      first = null
    })
    proc.once('exit', (code, signal) => {
      const expected = stopping
      if (proc === child) {
        child = null
        listening = false
      }
      lastExit = describeExit(code, signal)
      emit({ type: 'exit', pid, code, signal, expected })
      if (expected) return
      if (first) {
        // The first one never listened: nothing to restart, the command fails with what it said.
        const said = recent
          .filter((line) => line.trim() !== '')
          .slice(-5)
          .join('\n')
        first.reject(new Error(`the gateway did not start (${lastExit})${said ? `:\n${said}` : ''}`))
        first = null
        return
      }
      restarts += 1
      consecutive = Date.now() - startedAt >= backoff.resetAfterMs ? 1 : consecutive + 1
      const delayMs = restartDelay(consecutive, backoff)
      note = `restarting in ${delayMs < 1000 ? `${delayMs}ms` : `${Math.round(delayMs / 1000)}s`}`
      emit({ type: 'restart', delayMs, restarts })
      timer = setTimeout(() => {
        timer = null
        spawnGateway()
      }, delayMs)
    })
    const start: GatewayStartMessage = { type: 'switchyard.gateway.start', ...options.secrets, restarts }
    proc.send(start, (error) => {
      if (error) output(pid, `could not hand the gateway its keys: ${error.message}`)
    })
  }

  await new Promise<void>((resolve, reject) => {
    first = { resolve, reject }
    spawnGateway()
  })

  return {
    url,
    port,
    status: () => ({
      pid: child?.pid ?? null,
      url,
      up: child !== null && listening,
      restarts,
      lastExit: restarts > 0 ? lastExit : null,
      note: timer ? note : child !== null && !listening ? 'starting' : '',
    }),
    async stop() {
      stopping = true
      if (timer) clearTimeout(timer)
      timer = null
      const proc = child
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) return
      const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()))
      proc.kill('SIGTERM')
      const kill = setTimeout(() => proc.kill('SIGKILL'), options.stopTimeoutMs ?? 15_000)
      await exited
      clearTimeout(kill)
    },
  }
}

/** The status table's gateway line: `gateway  up  pid 4711  restarts 1 (last: signal SIGKILL)`. */
export function renderGatewayStatus(status: GatewayStatus): string {
  const state = status.up ? `up  pid ${status.pid}` : `DOWN${status.note ? `  ${status.note}` : ''}`
  return `gateway  ${state}  restarts ${status.restarts}${status.lastExit ? ` (last: ${status.lastExit})` : ''}`
}
