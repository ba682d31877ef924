// `switchyard new` for a runtime: python pool, as a newcomer uses it, through the built
// CLI: scaffold, `switchyard check`, the scaffolded pytest test, then `switchyard dev` and
// `switchyard run --trace`: the LangGraph Python graph answers offline, and the trace runs
// from the CLI through the gateway into the Python worker's node and chat spans.
import assert from 'node:assert/strict'
import { execFile, spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { PYTHON, pythonSkip } from '../helpers/python.js'

const REPO = join(import.meta.dirname, '../..')
const BIN = join(REPO, 'bin', 'switchyard.js')

const PYTHON_SKIP = pythonSkip(['langgraph', 'pytest', 'opentelemetry.sdk'], "python3 -m pip install './python[test]'")

function cli(args: readonly string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(process.execPath, [BIN, ...args], { cwd, timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr }),
    ),
  )
}

void describe('switchyard new for a python pool', { skip: PYTHON_SKIP }, () => {
  let dir: string
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'switchyard-new-py-'))
    writeFileSync(
      join(dir, 'switchyard.yaml'),
      [
        '# A project with one python pool.',
        'version: 1',
        'pools:',
        '  research:',
        '    runtime: python',
        '    memory: 512mb',
        'workflows: {}',
        '',
      ].join('\n'),
    )
  })
  after(() => rmSync(dir, { recursive: true, force: true }))

  void it('scaffolds a LangGraph Python graph, its prompt, schemas, example and a pytest test', async () => {
    const made = await cli(['new', 'lead.research', '--pool', 'research', '--description', "Research a lead's company."], dir)
    assert.equal(made.code, 0, made.stderr)
    for (const file of ['graph.py', 'prompt.md', 'input.schema.json', 'output.schema.json', 'example.json']) {
      assert.match(made.stdout, new RegExp(`workflows/lead-research/${file.replace('.', '\\.')}\\n`))
    }
    assert.match(made.stdout, /test\/test_lead_research\.py\n/)
    assert.match(made.stdout, /python3 -m pytest test\/test_lead_research\.py/)
    const graph = readFileSync(join(dir, 'workflows/lead-research/graph.py'), 'utf8')
    assert.match(graph, /def graph\(setup: Any\) -> Any:\n/)
    assert.match(graph, /\n {4}from langgraph\.graph import END, START, StateGraph\n/)
    assert.match(readFileSync(join(dir, 'switchyard.yaml'), 'utf8'), /graph: workflows\/lead-research\/graph\.py#graph/)
  })

  void it('passes switchyard check, which reads the graph on Python’s AST', async () => {
    const checked = await cli(['check'], dir)
    assert.equal(checked.code, 0, `${checked.stdout}${checked.stderr}`)
    assert.match(checked.stdout, /✓ switchyard\.yaml: 1 workflow in 1 pool, graphs clean/)
    // A heavy module-level import is then reported at its line.
    const file = join(dir, 'workflows/lead-research/graph.py')
    const clean = readFileSync(file, 'utf8')
    writeFileSync(file, `import langgraph\n${clean}`)
    const dirty = await cli(['check'], dir)
    assert.equal(dirty.code, 1)
    assert.match(dirty.stderr, /workflows\/lead-research\/graph\.py:1:1: module-level import of 'langgraph'/)
    writeFileSync(file, clean)
  })

  void it('ships a pytest test that passes', () => {
    const result = spawnSync(PYTHON, ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', 'test/test_lead_research.py'], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, PYTHONPATH: join(REPO, 'python') },
    })
    assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`)
    assert.match(result.stdout, /1 passed/)
  })

  void it('runs under switchyard dev: switchyard run --trace shows the Python node and chat spans', async () => {
    const dev = spawn(process.execPath, [BIN, 'dev', '--port', '0'], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, SWITCHYARD_SIGNING_KEY: '', SWITCHYARD_TOKENS: '', SWITCHYARD_PYTHON: PYTHON },
    })
    let text = ''
    dev.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()))
    dev.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()))
    const exited = new Promise<number | null>((resolve) => dev.once('exit', (code) => resolve(code)))
    try {
      const until = Date.now() + 60_000
      while (!/switchyard python worker: pool 'research' over IPC/.test(text)) {
        if (Date.now() > until || dev.exitCode !== null) throw new Error(`the python worker did not start:\n${text}`)
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
      const url = /gateway (http:\/\/[\d.:]+)/.exec(text)?.[1] ?? ''
      const ready = await fetch(`${url}/readyz`)
      assert.equal(ready.status, 200, await ready.text())
      const run = await cli(['run', 'lead.research', '--input', '@workflows/lead-research/example.json', '--url', url, '--trace'], dir)
      assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}\n${text}`)
      assert.match(run.stdout, /"answer": "\[offline\] answer",\n {2}"model": "offline"/)
      assert.match(run.stdout, /client run lead\.research {2}\[switchyard-cli\]/)
      assert.match(run.stdout, /run lead\.research {2}\[switchyard-pool-research\]/)
      assert.match(run.stdout, /└─ node respond .*\n\s+└─ chat offline .*tokens \d+→\d+ {2}\$0\.000000/)
    } finally {
      if (dev.exitCode === null && dev.signalCode === null) dev.kill('SIGINT')
      const timer = setTimeout(() => dev.kill('SIGKILL'), 20_000)
      await exited
      clearTimeout(timer)
    }
    assert.match(text, /switchyard dev: stopped\n/)
  })
})
