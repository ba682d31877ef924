// `switchyard new` end to end: scaffold into a copy of the sales registry, then
// check, codegen, run the new workflow through a pool worker — in this process, then
// through the built CLI (switchyard dev + switchyard run) — and run its own test,
// with no other code change.
import assert from 'node:assert/strict'
import { execFile, spawn, spawnSync } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { run as codegen } from '../../src/cli/codegen.js'
import { check } from '../../src/cli/check.js'
import { scaffold } from '../../src/cli/new.js'
import { loadRegistry } from '../../src/control/index.js'
import { startPools } from '../examples/in-process-pool.js'
import { SALES } from '../examples/workflow-kit.js'

const REPO = join(import.meta.dirname, '../..')

void describe('switchyard new', () => {
  let dir: string
  let config: string
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'switchyard-new-'))
    cpSync(SALES, join(dir, 'sales'), { recursive: true, filter: (src) => !src.includes('.switchyard') })
    // A project that installed switchyard-ai: its graphs import 'switchyard-ai/graph' and LangGraph.
    mkdirSync(join(dir, 'node_modules'))
    symlinkSync(REPO, join(dir, 'node_modules', 'switchyard-ai'))
    symlinkSync(join(REPO, 'node_modules', '@langchain'), join(dir, 'node_modules', '@langchain'))
    config = join(dir, 'sales', 'switchyard.yaml')
  })
  after(() => rmSync(dir, { recursive: true, force: true }))

  void it('scaffolds the files and appends the entry, keeping the comments', async () => {
    const before = readFileSync(config, 'utf8')
    const result = await scaffold({
      workflow: 'lead.summary',
      pool: 'email',
      config,
      description: 'Summarise a lead for the account executive.',
    })
    assert.deepEqual(result.files, [
      'workflows/lead-summary/graph.ts',
      'workflows/lead-summary/prompt.md',
      'workflows/lead-summary/input.schema.json',
      'workflows/lead-summary/output.schema.json',
      'workflows/lead-summary/example.json',
      'test/lead-summary.test.ts',
    ])
    const after = readFileSync(config, 'utf8')
    assert.ok(after.startsWith(before.trimEnd()), 'the existing text is kept as it was')
    assert.equal(
      after.slice(before.trimEnd().length),
      [
        '',
        '',
        '  lead.summary:',
        '    pool: email',
        '    graph: workflows/lead-summary/graph.ts#graph',
        '    prompt: workflows/lead-summary/prompt.md',
        '    input: workflows/lead-summary/input.schema.json',
        '    output: workflows/lead-summary/output.schema.json',
        '    description: Summarise a lead for the account executive.',
        '',
      ].join('\n'),
    )
  })

  void it('passes switchyard check and codegen', async () => {
    const report = check(config)
    assert.deepEqual([report.ok, report.workflows, report.problems, report.imports], [true, 5, [], []])
    const out = join(dir, 'workflows.d.ts')
    assert.equal(await codegen(['--config', config, '--out', out]), 0)
    assert.match(readFileSync(out, 'utf8'), /"lead\.summary": \{/)
  })

  void it('runs through the email pool with the offline model', async () => {
    const pools = await startPools(loadRegistry(config), ['email'])
    try {
      const record = await pools.run(
        'lead.summary',
        JSON.parse(readFileSync(join(dir, 'sales/workflows/lead-summary/example.json'), 'utf8')),
      )
      assert.equal(record.status, 'succeeded', JSON.stringify(record.error))
      assert.deepEqual(record.output, { answer: '[offline] answer', model: 'offline' })
    } finally {
      await pools.close()
    }
  })

  void it('starts it with switchyard dev and runs it with switchyard run (the built CLI)', async () => {
    const bin = join(REPO, 'bin', 'switchyard.js')
    const dev = spawn(process.execPath, [bin, 'dev', '--config', config, '--port', '0'], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, SWITCHYARD_SIGNING_KEY: '', SWITCHYARD_TOKENS: '' },
    })
    let text = ''
    dev.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()))
    dev.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()))
    const exited = new Promise<number | null>((resolve) => dev.once('exit', (code) => resolve(code)))
    let code: number | null
    try {
      const url = await waitFor(
        () => /gateway (http:\/\/[\d.:]+)/.exec(text)?.[1],
        30_000,
        () => `switchyard dev printed no gateway URL:\n${text}`,
      )
      // A run for a pool whose worker is still starting is refused at once (503): wait for them, as dev's own hints do.
      await waitFor(
        async () => ((await fetch(`${url}/readyz`)).status === 200 ? true : undefined),
        60_000,
        () => `switchyard dev never had a worker for every pool:\n${text}`,
      )
      const example = join(dir, 'sales/workflows/lead-summary/example.json')
      const run = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
        execFile(
          process.execPath,
          [bin, 'run', 'lead.summary', '--input', `@${example}`, '--url', url],
          { cwd: dir, timeout: 60_000 },
          (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr }),
        ),
      )
      assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}\n${text}`)
      assert.deepEqual(JSON.parse(run.stdout), { answer: '[offline] answer', model: 'offline' })
    } finally {
      if (dev.exitCode === null && dev.signalCode === null) dev.kill('SIGINT')
      const timer = setTimeout(() => dev.kill('SIGKILL'), 20_000)
      code = await exited
      clearTimeout(timer)
    }
    assert.equal(code, 0, `switchyard dev stopped by SIGINT exits 0:\n${text}`)
    assert.match(text, /switchyard dev: stopped\n/)
  })

  void it('ships a test that passes', () => {
    const tsx = import.meta.resolve('tsx')
    const result = spawnSync(process.execPath, ['--import', tsx, '--test', 'test/lead-summary.test.ts'], {
      cwd: join(dir, 'sales'),
      encoding: 'utf8',
      timeout: 60_000,
    })
    assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`)
  })

  void it('refuses an existing name, naming where it is', async () => {
    const line =
      readFileSync(config, 'utf8')
        .split('\n')
        .findIndex((l) => l.trim() === 'email.compose:') + 1
    assert.ok(line > 0)
    await assert.rejects(scaffold({ workflow: 'email.compose', pool: 'email', config }), {
      code: 'BAD_REQUEST',
      message: `workflow 'email.compose' already exists in ${config}:${line}; pick another name`,
    })
  })

  void it('refuses an unknown pool, suggesting the near one', async () => {
    await assert.rejects(scaffold({ workflow: 'lead.score', pool: 'emial', config }), {
      code: 'BAD_REQUEST',
      message: `unknown pool 'emial'. Did you mean 'email'? Pools in ${config}: email, classify, discovery, research`,
    })
  })

  void it('works on a JSON registry too', async () => {
    const { parse } = await import('yaml')
    const json = join(dir, 'sales', 'switchyard.json')
    writeFileSync(json, JSON.stringify(parse(readFileSync(config, 'utf8')), null, 2))
    await scaffold({ workflow: 'lead.enrich', pool: 'classify', config: json })
    const registry = loadRegistry(json)
    assert.equal(registry.workflows.get('lead.enrich')?.pool, 'classify')
    await assert.rejects(scaffold({ workflow: 'lead.enrich', pool: 'classify', config: json }), {
      message: `workflow 'lead.enrich' already exists in ${json}:${
        readFileSync(json, 'utf8')
          .split('\n')
          .findIndex((l) => l.includes('"lead.enrich"')) + 1
      }; pick another name`,
    })
  })

  void it('refuses a name the registry would refuse', async () => {
    await assert.rejects(scaffold({ workflow: 'Lead Score', pool: 'email', config }), {
      message: "invalid workflow name 'Lead Score': use lowercase words joined by dots or dashes, e.g. lead.summary",
    })
  })
})

/** Poll `check` every 50 ms until it returns a value; fail with `message()` after `timeoutMs`. */
async function waitFor<T>(check: () => T | undefined | Promise<T | undefined>, timeoutMs: number, message: () => string): Promise<T> {
  const until = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > until) throw new Error(message())
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}
