// `switchyard dev` run from sources as its own process, for the tests that watch
// what it prints and then stop it the way a user does (Ctrl-C).
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const DEV = fileURLToPath(new URL('../../src/cli/dev.ts', import.meta.url))

/** A running `switchyard dev`. */
export interface DevProcess {
  /** Everything it printed so far, stdout and stderr interleaved. */
  readonly text: string
  /** SIGINT it if it still runs (SIGKILL after 20 s if it hangs); resolve with its exit code. */
  stop(): Promise<number | null>
}

/** Start `switchyard dev <args>` in `cwd`, with `env` over this process's environment. */
export function spawnDev(args: readonly string[], cwd: string, env: Record<string, string>): DevProcess {
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), DEV, ...args], {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  })
  let text = ''
  child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  return {
    get text() {
      return text
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT')
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
      const code = await exited
      clearTimeout(timer)
      return code
    },
  }
}
