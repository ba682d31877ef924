// Type tests: the client typed by a codegen'd `Workflows` interface rejects, at
// compile time, an unknown workflow name, a wrong input and a misused output.
// The TypeScript compiler runs in-process on a virtual file, with the repo's
// tsconfig, and the test shows the exact messages a user would read.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { loadRegistry } from '../../src/control/index.js'
import { workflowTypes } from '../../src/control/tooling/index.js'

const here = dirname(fileURLToPath(import.meta.url))
const root = resolve(here, '../..')
const virtualFile = join(here, 'virtual-typed-client.ts')

const SOURCE = `
import { createClient, type WorkflowMap } from '../../src/client/index.js'

// What switchyard codegen writes: an interface, not a type alias (no index signature).
interface Workflows {
  'email.compose': {
    input: { lead: { name: string; email: string }; tone?: 'warm' | 'formal' }
    output: { subject: string; body: string }
  }
  'lead.classify': { input: { company: string }; output: { country: string | null } }
}

const client = createClient<Workflows>({ url: 'http://127.0.0.1:7070', token: 't' })
const untyped = createClient({ url: 'http://127.0.0.1:7070' })
type Check<T extends WorkflowMap<T>> = T
export type Accepted = Check<Workflows>

export async function valid(): Promise<[string, string | null, string, unknown]> {
  const email = await client.run('email.compose', { lead: { name: 'Ada', email: 'ada@example.com' } }, { idempotencyKey: 'k', timeout: 1000 })
  const lead = await client.run('lead.classify', { company: 'Acme' })
  const queued = await client.run('email.compose', { lead: { name: 'Ada', email: 'a@b.c' } }, { async: true })
  const anything = await untyped.run('whatever', { any: 1 })
  return [email.subject, lead.country, queued.runId, anything]
}

export async function unknownName() {
  await client.run('email.composse', { lead: { name: 'Ada', email: 'a@b.c' } })
}

export async function wrongInput() {
  await client.run('email.compose', { lead: { name: 'Ada' } })
}

export async function wrongOutput(): Promise<number> {
  const email = await client.run('lead.classify', { company: 'Acme' })
  return email.subject
}
`

/** Compile `source` as a virtual file beside this test (plus other virtual files); its diagnostics, by line. */
function compile(source: string, extra: Record<string, string> = {}): Array<{ line: string; message: string }> {
  const virtual = new Map<string, string>([
    [virtualFile, source],
    ...Object.entries(extra).map(([name, text]) => [join(here, name), text] as [string, string]),
  ])
  const configFile = ts.readConfigFile(join(root, 'tsconfig.json'), (path) => ts.sys.readFile(path))
  const parsed = ts.parseJsonConfigFileContent(configFile.config, ts.sys, root)
  // No @types/node: the client must compile for browsers and edge runtimes too.
  const options = { ...parsed.options, types: [] }
  const host = ts.createCompilerHost(options)
  const getSourceFile = host.getSourceFile.bind(host)
  const fileExists = host.fileExists.bind(host)
  const readFile = host.readFile.bind(host)
  host.getSourceFile = (name, language, ...rest) => {
    const text = virtual.get(resolve(name))
    return text === undefined ? getSourceFile(name, language, ...rest) : ts.createSourceFile(name, text, language)
  }
  host.fileExists = (name) => virtual.has(resolve(name)) || fileExists(name)
  host.readFile = (name) => virtual.get(resolve(name)) ?? readFile(name)
  const program = ts.createProgram([virtualFile], options, host)
  return ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file !== undefined && resolve(d.file.fileName) === virtualFile)
    .map((d) => {
      const { line } = (d.file as ts.SourceFile).getLineAndCharacterOfPosition(d.start ?? 0)
      return { line: source.split('\n')[line]?.trim() ?? '', message: ts.flattenDiagnosticMessageText(d.messageText, '\n') }
    })
}

void test('createClient<Workflows>: unknown names, wrong inputs and wrong output use fail to compile; valid calls pass', () => {
  const errors = compile(SOURCE)
  assert.deepEqual(
    errors.map((e) => e.line),
    [
      "await client.run('email.composse', { lead: { name: 'Ada', email: 'a@b.c' } })",
      "await client.run('email.compose', { lead: { name: 'Ada' } })",
      'return email.subject',
    ],
    JSON.stringify(errors, null, 2),
  )
  const [unknownName, wrongInput, wrongOutput] = errors.map((e) => e.message)
  assert.match(
    unknownName ?? '',
    /Argument of type '"email\.composse"' is not assignable to parameter of type '"email\.compose" \| "lead\.classify"'/,
  )
  assert.match(
    wrongInput ?? '',
    /Property 'email' is missing in type '\{ name: string; \}' but required in type '\{ name: string; email: string; \}'/,
  )
  assert.match(wrongOutput ?? '', /Property 'subject' does not exist on type '\{ country: string \| null; \}'/)
})

void test('with the types `switchyard codegen` writes for examples/sales, the example input type-checks and a typo does not', () => {
  const registry = loadRegistry(join(root, 'examples/sales/switchyard.yaml'))
  const example = readFileSync(join(root, 'examples/sales/workflows/email-compose/example.json'), 'utf8')
  const usage = `
import { createClient } from '../../src/client/index.js'
import type { Workflows } from './virtual-workflows.js'
const client = createClient<Workflows>({ url: 'http://127.0.0.1:7070' })
export async function main() {
  const email = await client.run('email.compose', ${example.trim()})
  await client.run('email.composer', ${example.trim()})
  return email
}
`
  const errors = compile(usage, { 'virtual-workflows.d.ts': workflowTypes(registry, 'switchyard.yaml') })
  assert.equal(errors.length, 1, JSON.stringify(errors, null, 2))
  assert.match(
    errors[0]?.message ?? '',
    /^Argument of type '"email\.composer"' is not assignable to parameter of type '("[a-z.-]+" \| )*"email\.compose"( \| "[a-z.-]+")*'\.$/,
  )
})
