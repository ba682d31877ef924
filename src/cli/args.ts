// Shared option parsing for CLI commands (node:util parseArgs, strict).
import { parseArgs, type ParseArgsConfig } from 'node:util'
import { resolve } from 'node:path'

type Options = NonNullable<ParseArgsConfig['options']>

export interface ParsedArgs {
  readonly values: Readonly<Record<string, string | boolean | (string | boolean)[] | undefined>>
  readonly positionals: readonly string[]
}

export const CONFIG_OPTION = { config: { type: 'string' } } as const satisfies Options

const HELP = { help: { type: 'boolean', short: 'h' } } as const satisfies Options

/** Parse argv strictly (an unknown flag is an error naming it); adds -h/--help. */
export function parse(args: string[], options: Options, allowPositionals = false): ParsedArgs {
  return parseArgs({ args, options: { ...options, ...HELP }, allowPositionals, strict: true })
}

/** A string option's value, or undefined. */
export function str(parsed: ParsedArgs, name: string): string | undefined {
  const value = parsed.values[name]
  return typeof value === 'string' ? value : undefined
}

/** --config, else SWITCHYARD_CONFIG, else ./switchyard.yaml; absolute. */
export function configPath(flag: string | undefined): string {
  return resolve(flag ?? process.env.SWITCHYARD_CONFIG ?? 'switchyard.yaml')
}
