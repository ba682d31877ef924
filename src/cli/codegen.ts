// `switchyard codegen`: TypeScript types of every workflow's input and output,
// for the typed client (`createClient<Workflows>()`).
import { writeFileSync } from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import { loadRegistry } from '../control/index.js'
import { workflowTypes } from '../control/tooling/index.js'
import { CONFIG_OPTION, configPath, parse } from './args.js'

const HELP = `usage: switchyard codegen [--config FILE] [--out FILE]

Writes a .d.ts declaring \`interface Workflows { '<name>': { input: …; output: … } }\`
from the registry's JSON Schemas, for createClient<Workflows>().

  --config FILE  registry file (default: SWITCHYARD_CONFIG or ./switchyard.yaml)
  --out FILE     where to write (default: switchyard-workflows.d.ts beside the registry)`

/** Where codegen writes by default: beside the registry file. */
export function defaultOut(config: string): string {
  return join(dirname(config), 'switchyard-workflows.d.ts')
}

export async function run(args: string[]): Promise<number> {
  const { values } = parse(args, { ...CONFIG_OPTION, out: { type: 'string' } })
  if (values.help) {
    console.log(HELP)
    return 0
  }
  const config = configPath(typeof values.config === 'string' ? values.config : undefined)
  const out = typeof values.out === 'string' ? resolve(values.out) : defaultOut(config)
  const registry = loadRegistry(config, { check: 'load' })
  writeFileSync(out, workflowTypes(registry, basename(config)))
  console.log(`wrote ${out}: ${registry.workflows.size} workflow${registry.workflows.size === 1 ? '' : 's'}`)
  return 0
}
