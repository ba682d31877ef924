// `switchyard <command>`: one file per command, loaded only when called, so
// `switchyard check` never pays for the gateway's or the worker's imports.

const COMMANDS = {
  check: 'validate the registry and lint graph modules',
  codegen: 'write TypeScript types of every workflow for the typed client',
  dev: 'run everything on this machine: embedded broker, offline model',
  start: 'run everything on this machine on Redis',
  gateway: 'run the HTTP gateway',
  worker: 'run one pool worker (--pool NAME)',
  run: 'run a workflow: run WORKFLOW --input JSON|@file',
  runs: 'list recent runs',
  cancel: 'cancel a queued or running run: cancel RUN_ID',
  trace: 'draw a run tree: trace TRACE_ID',
  new: 'scaffold a workflow: new WORKFLOW --pool POOL',
  keys: 'make the envelope key pair: keys generate --out FILE · keys public',
  acl: 'print the Redis ACL SETUSER lines: one user per pool, one for the gateway',
} as const

export type CommandName = keyof typeof COMMANDS

/** Every command module exports `run(args)`, resolving to the exit code. */
export interface Command {
  run(args: string[]): Promise<number>
}

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length))
  const lines = Object.entries(COMMANDS).map(([name, text]) => `  ${name.padEnd(width)}  ${text}`)
  return [
    'usage: switchyard <command> [options]',
    '',
    'commands:',
    ...lines,
    '',
    'check, codegen, dev, start, gateway, worker and new read the registry: --config FILE (or',
    'SWITCHYARD_CONFIG); the default is ./switchyard.yaml. run, runs, cancel and trace ask a running',
    'gateway instead: --url URL (or SWITCHYARD_URL).',
    "Run 'switchyard <command> --help' for a command's options.",
  ].join('\n')
}

export async function main(argv: string[]): Promise<void> {
  const [name, ...args] = argv
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage())
    process.exit(name === undefined ? 1 : 0)
  }
  if (!Object.hasOwn(COMMANDS, name)) {
    console.error(`switchyard: unknown command '${name}'\n\n${usage()}`)
    process.exit(1)
  }
  try {
    const command = (await import(`./${name}.js`)) as Command
    const code = await command.run(args)
    process.exitCode = code
  } catch (error) {
    console.error(`switchyard ${name}: ${error instanceof Error ? error.message : String(error)}`)
    process.exit(1)
  }
}
