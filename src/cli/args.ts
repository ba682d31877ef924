// Shared option parsing for CLI commands (node:util parseArgs, strict).
import { parseArgs, type ParseArgsConfig } from 'node:util'
import { resolve } from 'node:path'

type Options = NonNullable<ParseArgsConfig['options']>

export const CONFIG_OPTION = { config: { type: 'string' } } as const satisfies Options

/** Parse argv strictly; an unknown flag is an error naming it. */
export function parse<const T extends Options>(args: string[], options: T, allowPositionals = false) {
  return parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals, strict: true })
}

/** --config, else SWITCHYARD_CONFIG, else ./switchyard.yaml; absolute. */
export function configPath(flag: string | undefined): string {
  return resolve(flag ?? process.env.SWITCHYARD_CONFIG ?? 'switchyard.yaml')
}
