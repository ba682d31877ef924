// The resolved registry (spec/resolved-registry.schema.json) is how a worker in another
// language gets the registry: one set of rules, TypeScript's. What it writes fits the
// schema, carries every unit resolved, and the Python worker reads exactly that.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { Ajv2020 } from 'ajv/dist/2020.js'

import { loadRegistry } from '../../../src/control/index.js'
import { RESOLVED_FORMAT, resolvedRegistry, resolvedRegistryPath, writeResolvedRegistry } from '../../../src/control/tooling/index.js'
import { folder } from '../fixture.js'

const schema = JSON.parse(readFileSync('spec/resolved-registry.schema.json', 'utf8')) as object
const validate = new Ajv2020({ allErrors: true, strict: false }).compile(schema)
const f = folder({
  'switchyard.yaml': [
    'version: 1',
    'pools:',
    '  py: { runtime: python, memory: 1.5gb, maxOutput: 256kb, timeout: 90s, retries: 0, tracing: { capture: redacted, redact: [email] } }',
    '  web: { concurrency: 9 }',
    'workflows:',
    '  py.hello: { pool: py, graph: graphs/hello.py#hello, input: { type: object }, output: { type: object, required: [a] }, description: d, timeout: 250ms }',
    '  web.echo: { pool: web, graph: graphs/echo.ts, input: { type: object }, description: e }',
    '',
  ].join('\n'),
  'graphs/hello.py': 'def hello(input, run):\n    return {"a": 1}\n',
  'graphs/echo.ts': 'export const graph = () => (input: unknown) => input\n',
})
after(() => f.remove())

void describe('the resolved registry', () => {
  void it('fits spec/resolved-registry.schema.json, with units, defaults and paths resolved', () => {
    const resolved = resolvedRegistry(loadRegistry(join(f.dir, 'switchyard.yaml')))
    assert.ok(validate(resolved), JSON.stringify(validate.errors))
    assert.equal(resolved.format, RESOLVED_FORMAT)
    assert.deepEqual(resolved.pools.py, {
      name: 'py',
      runtime: 'python',
      concurrency: 4,
      processes: 1,
      timeoutMs: 90_000,
      retries: 0,
      maxQueued: 1000,
      memoryBytes: 1.5 * 1024 ** 3,
      cpuCores: null,
      maxOutputBytes: 256 * 1024,
      env: null,
      secrets: [],
      redis: null,
      user: null,
      tracing: { project: 'py', sampleRate: 1, capture: 'redacted', redact: ['email'] },
    })
    assert.deepEqual(resolved.workflows['py.hello'], {
      name: 'py.hello',
      pool: 'py',
      graph: { ref: 'graphs/hello.py#hello', module: join(f.dir, 'graphs/hello.py'), export: 'hello' },
      prompt: null,
      input: { type: 'object' },
      output: { type: 'object', required: ['a'] },
      description: 'd',
      timeoutMs: 250,
      retries: 0,
    })
    assert.equal(resolved.workflows['web.echo']?.graph.export, 'graph')
    assert.equal(resolved.pools.web?.maxOutputBytes, 1024 ** 2)
    assert.ok(validate(resolvedRegistry(loadRegistry('examples/sales/switchyard.yaml'))), JSON.stringify(validate.errors))
  })

  void it('is what the Python worker reads: the same pool, the same numbers', (t) => {
    const registry = loadRegistry(join(f.dir, 'switchyard.yaml'))
    const { file, sha256 } = writeResolvedRegistry(registry)
    assert.equal(sha256, `sha256:${createHash('sha256').update(readFileSync(file)).digest('hex')}`)
    assert.equal(file, resolvedRegistryPath(registry.source))
    assert.equal(file, join(f.dir, '.switchyard', 'switchyard.yaml.resolved.json'))
    const script = [
      'import json, sys',
      'from switchyard_worker.registry import load_registry',
      // The digest the supervisor passes: Python hashes the same bytes to it.
      'r = load_registry(sys.argv[1], sha256=sys.argv[2])',
      'p, w = r.pools["py"], r.workflows["py.hello"]',
      'print(json.dumps([r.digest, p.memory, p.max_output, p.timeout_ms, p.capture, list(p.redact), w.timeout_ms, str(w.module), w.export, w.output]))',
    ].join('\n')
    const python = spawnSync('python3', ['-c', script, file, sha256], { encoding: 'utf8', env: { ...process.env, PYTHONPATH: 'python' } })
    if (python.error || (python.status !== 0 && /No module named/.test(python.stderr) && !process.env.CI)) {
      t.skip(`python3 cannot run the worker here: ${python.stderr || python.error?.message}`)
      return
    }
    assert.equal(python.status, 0, python.stderr)
    assert.deepEqual(JSON.parse(python.stdout), [
      registry.digest,
      1.5 * 1024 ** 3,
      256 * 1024,
      90_000,
      'redacted',
      ['email'],
      250,
      join(f.dir, 'graphs/hello.py'),
      'hello',
      { type: 'object', required: ['a'] },
    ])
  })
})
