// `switchyard start` (or `dev`, or `gateway`) run from sources as its own process, for the tests that
// talk to its gateway: one place that spawns it, waits for the gateway URL it prints
// (failing with what it printed if it exits or stays silent), and stops it.
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

import { eventually } from './eventually.js'

type Command = 'start' | 'dev' | 'gateway'

const CLI = (name: Command) => fileURLToPath(new URL(`../../src/cli/${name}.ts`, import.meta.url))

export interface LaunchOptions {
  /** Arguments after the command (--config, --redis, ...); `--port 0` is always added. */
  readonly args: readonly string[]
  /** Over this process's environment. */
  readonly env?: Record<string, string>
  /** Extra `node --import` modules (a fault to inject), after tsx. */
  readonly imports?: readonly string[]
  /** How long to wait for the gateway URL. */
  readonly timeoutMs?: number
  /** A command that execs node in its place (e.g. `prlimit --nofile=256 --`): the child's pid stays node's. */
  readonly wrapper?: readonly string[]
}

/** A running `switchyard start`/`dev`/`gateway` whose gateway has printed its URL. */
export interface Launched {
  readonly child: ChildProcess
  readonly url: string
  /** Everything it printed so far, stdout and stderr interleaved. */
  output(): string
  /** What it printed on stderr alone. */
  stderr(): string
  /** Resolves with its exit code once it has exited. */
  readonly exited: Promise<number | null>
  /** Send `signal` if it still runs (SIGKILL after 20 s if it hangs); resolve with its exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>
}

/** Whether a process of this pid exists (signal 0 only checks). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/**
 * Spawn `switchyard <command> --port 0 <args>` and resolve once it prints its gateway URL.
 * If it exits first or the wait times out, it is stopped (SIGINT) and the error carries everything it printed.
 */
export async function launch(command: Command, options: LaunchOptions): Promise<Launched> {
  const imports = ['tsx', ...(options.imports ?? [])].flatMap((module) => ['--import', module])
  const argv = [process.execPath, ...imports, CLI(command), '--port', '0', ...options.args]
  const [program, ...rest] = [...(options.wrapper ?? []), ...argv] as [string, ...string[]]
  const child = spawn(program, rest, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...options.env },
  })
  let text = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => {
    text += chunk.toString()
    stderr += chunk.toString()
  })
  let gone = false
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      gone = true
      resolve(code)
    }),
  )
  const stop = async (signal: NodeJS.Signals = 'SIGINT') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal)
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
    const code = await exited
    clearTimeout(timer)
    return code
  }
  const pattern = new RegExp(`switchyard ${command}: ${command === 'gateway' ? '' : 'gateway '}(http://[\\d.:]+)`)
  try {
    const url = await eventually(
      `switchyard ${command} to print its gateway URL`,
      () => {
        const found = pattern.exec(text)?.[1]
        if (found === undefined && gone)
          throw new Error(`switchyard ${command} exited (code ${child.exitCode ?? child.signalCode}) before printing its gateway URL`)
        return found
      },
      options.timeoutMs ?? 60_000,
    )
    return { child, url, output: () => text, stderr: () => stderr, exited, stop }
  } catch (error) {
    await stop()
    throw new Error(`${(error as Error).message}\n${text}`)
  }
}
