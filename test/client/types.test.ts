// Type tests: the client typed by a codegen'd `Workflows` interface rejects, at
// compile time, an unknown workflow name, a wrong input and a misused output.
// The TypeScript compiler runs in-process on a virtual file, with the repo's
// tsconfig, and the test shows the exact messages a user would read.
import assert from 'node:assert/strict'
import { dirname, join, resolve } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

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

function compile(source: string): Array<{ line: string; message: string }> {
  const configFile = ts.readConfigFile(join(root, 'tsconfig.json'), (path) => ts.sys.readFile(path))
  const parsed = ts.parseJsonConfigFileContent(configFile.config, ts.sys, root)
  // No @types/node: the client must compile for browsers and edge runtimes too.
  const options = { ...parsed.options, types: [] }
  const host = ts.createCompilerHost(options)
  const getSourceFile = host.getSourceFile.bind(host)
  const fileExists = host.fileExists.bind(host)
  const readFile = host.readFile.bind(host)
  host.getSourceFile = (name, language, ...rest) =>
    resolve(name) === virtualFile ? ts.createSourceFile(name, source, language) : getSourceFile(name, language, ...rest)
  host.fileExists = (name) => resolve(name) === virtualFile || fileExists(name)
  host.readFile = (name) => (resolve(name) === virtualFile ? source : readFile(name))
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
  assert.match(unknownName ?? '', /Argument of type '"email\.composse"' is not assignable to parameter of type '"email\.compose" \| "lead\.classify"'/)
  assert.match(wrongInput ?? '', /Property 'email' is missing in type '\{ name: string; \}' but required in type '\{ name: string; email: string; \}'/)
  assert.match(wrongOutput ?? '', /Property 'subject' does not exist on type '\{ country: string \| null; \}'/)
})
