// A command module can also be the script Node starts, without main: the supervisor
// forks cli/worker.js directly, and tests run `node --import tsx src/cli/dev.ts`.
import { pathToFileURL } from 'node:url'

/**
 * When the module at `moduleUrl` (its `import.meta.url`) is the script Node started,
 * call `run` with the script's arguments and set the exit code it returns; a thrown
 * error is printed as `switchyard <name>: <message>` with exit code 1, as main does.
 */
export function runIfMain(moduleUrl: string, run: (argv: string[]) => Promise<number>, name: string): void {
  if (process.argv[1] === undefined || moduleUrl !== pathToFileURL(process.argv[1]).href) return
  void run(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (error: unknown) => {
      console.error(`switchyard ${name}: ${error instanceof Error ? error.message : String(error)}`)
      process.exitCode = 1
    },
  )
}
