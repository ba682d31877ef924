// Issue 12.8: graph, prompt, env and schema paths could point anywhere — `../outside`,
// `/etc/passwd`, `/proc/self/environ` all loaded (an env file read into a pool's
// workers, a schema read into the compiled registry). Every path must resolve,
// symlinks followed, inside the registry's folder or a folder listed under `shared:`;
// `check` and load refuse the rest at file:line, before the file is read.
import assert from 'node:assert/strict'
import { mkdirSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { check } from '../../src/cli/check.js'
import { loadRegistry } from '../../src/control/index.js'
import { folder, lines, problemsOf, type Folder } from '../control/fixture.js'

const made: Folder[] = []
after(() => made.forEach((f) => f.remove()))

/**
 * A temp tree: `reg/` is the registry's folder, `outside/` and `common/` sit beside
 * it. The registry's email pool and one workflow, with `fields` added to it.
 */
function tree(workflow: string, top = '', pool = ''): { f: Folder; file: string } {
  const f = folder({
    'reg/wf/graph.ts': 'export const graph = () => (input: unknown) => input\n',
    'reg/wf/prompt.md': 'Hello\n',
    'reg/wf/input.json': '{ "type": "object" }\n',
    'outside/graph.ts': 'export const graph = () => (input: unknown) => input\n',
    'outside/prompt.md': 'Outside\n',
    'outside/input.json': '{ "type": "object" }\n',
    'outside/email.env': 'OPENAI_API_KEY=sk-outside\n',
    'common/prompt.md': 'Shared\n',
  })
  made.push(f)
  const yaml = `version: 1
${top}pools:
  email:
${pool || '    concurrency: 1\n'}workflows:
  email.compose:
    pool: email
    description: d
${workflow}`
  return { f, file: f.write('reg/switchyard.yaml', yaml) }
}

const GRAPH = '    graph: wf/graph.ts#graph\n'
const INPUT = '    input: wf/input.json\n'

void describe('registry paths stay inside the registry folder', () => {
  void it("refuses '../' paths for graph, prompt and schema, each at its line", () => {
    const { file } = tree('    graph: ../outside/graph.ts#graph\n    prompt: ../outside/prompt.md\n    input: ../outside/input.json\n')
    assert.deepEqual(lines(problemsOf(() => loadRegistry(file))), [
      "9:12 workflow 'email.compose' graph: ../outside/graph.ts is outside the registry's folder; list its folder under 'shared:' to allow it",
      "10:13 workflow 'email.compose' prompt: ../outside/prompt.md is outside the registry's folder; list its folder under 'shared:' to allow it",
      "11:12 workflow 'email.compose' input: ../outside/input.json is outside the registry's folder; list its folder under 'shared:' to allow it",
    ])
  })

  void it('refuses absolute paths outside: /etc/passwd as a prompt, /proc/self/environ as an env file', () => {
    const { file } = tree(`${GRAPH}${INPUT}    prompt: /etc/passwd\n`, '', '    env: /proc/self/environ\n')
    const problems = lines(problemsOf(() => loadRegistry(file)))
    assert.equal(problems.length, 2)
    assert.match(
      problems[0] ?? '',
      /^4:10 pool 'email' env: \/proc\/self\/environ is outside the registry's folder \(it resolves to \/proc\/\d+\/environ\);/,
    )
    assert.match(problems[1] ?? '', /^11:13 workflow 'email.compose' prompt: \/etc\/passwd is outside the registry's folder;/)
  })

  void it('refuses an absolute schema path outside before reading it (/dev/zero would never end)', () => {
    const { file } = tree(`${GRAPH}    input: /dev/zero\n`)
    assert.deepEqual(lines(problemsOf(() => loadRegistry(file))), [
      "10:12 workflow 'email.compose' input: /dev/zero is outside the registry's folder; list its folder under 'shared:' to allow it",
    ])
  })

  void it('follows symlinks: a link inside that points outside is refused, naming where it leads', () => {
    const { f, file } = tree(`    graph: wf/escape.ts#graph\n${INPUT}`, '', '    env: env/email.env\n')
    symlinkSync(f.path('outside/graph.ts'), f.path('reg/wf/escape.ts'))
    // A linked folder escapes too: everything under it is outside.
    symlinkSync(f.path('outside'), f.path('reg/env'))
    const problems = lines(problemsOf(() => loadRegistry(file)))
    assert.deepEqual(problems, [
      `4:10 pool 'email' env: env/email.env is outside the registry's folder (it resolves to ${join(f.dir, 'outside', 'email.env')}); list its folder under 'shared:' to allow it`,
      `9:12 workflow 'email.compose' graph: wf/escape.ts is outside the registry's folder (it resolves to ${join(f.dir, 'outside', 'graph.ts')}); list its folder under 'shared:' to allow it`,
    ])
  })

  void it('accepts a symlink that stays inside, and an absolute path that resolves inside', () => {
    const { f, file } = tree(`    graph: wf/link.ts#graph\n    input: ${'ABS'}\n`)
    symlinkSync(f.path('reg/wf/graph.ts'), f.path('reg/wf/link.ts'))
    mkdirSync(f.path('reg/prompts'))
    symlinkSync(f.path('reg/wf/prompt.md'), f.path('reg/prompts/p.md'))
    f.write(
      'reg/switchyard.yaml',
      `version: 1\npools:\n  email: {}\nworkflows:\n  email.compose:\n    pool: email\n    description: d\n    graph: wf/link.ts#graph\n    prompt: prompts/p.md\n    input: ${f.path('reg/wf/input.json')}\n`,
    )
    const registry = loadRegistry(file)
    assert.equal(registry.workflows.get('email.compose')?.prompt, f.path('reg/prompts/p.md'))
  })

  void it("accepts paths into a folder listed under 'shared:', and only that folder", () => {
    const { file } = tree(`${GRAPH}${INPUT}    prompt: ../common/prompt.md\n`, 'shared: [../common]\n')
    assert.equal(loadRegistry(file).workflows.get('email.compose')?.prompt?.endsWith(join('common', 'prompt.md')), true)
    const { file: other } = tree(`${GRAPH}${INPUT}    prompt: ../outside/prompt.md\n`, 'shared: [../common]\n')
    assert.deepEqual(lines(problemsOf(() => loadRegistry(other))), [
      "12:13 workflow 'email.compose' prompt: ../outside/prompt.md is outside the registry's folder and its shared folders; list its folder under 'shared:' to allow it",
    ])
  })

  void it("a 'shared:' entry must be an existing folder", () => {
    const { file } = tree(`${GRAPH}${INPUT}`, 'shared: [../missing, ../outside/prompt.md, 7]\n')
    assert.deepEqual(lines(problemsOf(() => loadRegistry(file))), [
      '2:10 shared: folder not found: ../missing',
      '2:22 shared: ../outside/prompt.md is not a folder',
      '2:44 shared: each entry must be a folder path',
    ])
  })

  void it('`switchyard check` refuses the registry at file:line', () => {
    const { file } = tree(`${GRAPH}${INPUT}    prompt: ../outside/prompt.md\n`)
    const report = check(file)
    assert.equal(report.ok, false)
    assert.ok(
      report.problems.some((p) => p.file.endsWith('switchyard.yaml') && p.line === 11 && /outside the registry's folder/.test(p.message)),
      JSON.stringify(report.problems),
    )
  })
})
