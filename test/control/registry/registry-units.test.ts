// spec/vectors/registry-units.json against the TypeScript rules: the unit parsers
// (registry-rules.ts) and what a registry resolves to (registry-compiler.ts, through
// the resolved form a Python worker reads). python/tests/test_registry_units.py reads
// the same file from the resolved side.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { after, describe, it } from 'node:test'

import { parseDuration, parseSize, rebuildRegistry } from '../../../src/control/index.js'
import { resolvedRegistry } from '../../../src/control/tooling/index.js'

type ResolvedRegistry = ReturnType<typeof resolvedRegistry>
import { folder } from '../fixture.js'

interface Case {
  readonly text: string
  readonly ms?: number | null
  readonly bytes?: number | null
  readonly resolved?: number | null
  readonly error?: string
}
interface Vectors {
  readonly durations: { readonly cases: readonly Case[]; readonly error: string }
  readonly timeout: { readonly cases: readonly Case[] }
  readonly sizes: { readonly cases: readonly Case[] }
  readonly memory: { readonly cases: readonly Case[] }
  readonly maxOutput: { readonly cases: readonly Case[] }
  readonly cpu: { readonly cases: ReadonlyArray<{ readonly value: unknown; readonly resolved: number | null; readonly error?: string }> }
  readonly defaults: {
    readonly registry: string
    readonly pool: ResolvedRegistry['pools'][string]
    readonly workflow: Partial<ResolvedRegistry['workflows'][string]>
  }
}
const vectors = JSON.parse(readFileSync(new URL('../../../spec/vectors/registry-units.json', import.meta.url), 'utf8')) as Vectors

const f = folder()
after(() => f.remove())

/** A registry of one pool with `field: text` (quoted, so YAML keeps it a string), resolved; or the problems it has. */
function poolWith(field: string, text: string): { pool?: ResolvedRegistry['pools'][string]; problems: string[] } {
  const file = f.write(
    `${field}-${Buffer.from(text).toString('hex')}.yaml`,
    `version: 1\npools:\n  p: { ${field}: ${JSON.stringify(text)} }\nworkflows:\n  p.w: { pool: p, graph: wf/graph.ts, input: { type: object }, description: d }\n`,
  )
  const { registry, problems } = rebuildRegistry(file)
  return { pool: registry ? resolvedRegistry(registry).pools.p : undefined, problems: problems.map((p) => p.message) }
}

void describe('spec/vectors/registry-units.json', () => {
  void it('durations: parseDuration and a pool timeout resolve each as the vectors say', () => {
    for (const c of vectors.durations.cases) {
      assert.equal(parseDuration(c.text), c.ms, `parseDuration(${JSON.stringify(c.text)})`)
      const { pool, problems } = poolWith('timeout', c.text)
      if (c.ms === null) {
        assert.equal(pool, undefined, `timeout ${JSON.stringify(c.text)} is refused`)
        assert.ok(
          problems.some((m) => m.includes(vectors.durations.error)),
          `${JSON.stringify(c.text)}: ${problems.join('; ')}`,
        )
      } else assert.equal(pool?.timeoutMs, c.ms, `timeout ${JSON.stringify(c.text)}: ${problems.join('; ')}`)
    }
  })

  void it("timeout: at most 2^31 - 1 ms, resolved or refused with the vectors' message", () => {
    for (const c of vectors.timeout.cases) {
      assert.equal(parseDuration(c.text), c.ms, `parseDuration(${JSON.stringify(c.text)})`)
      const { pool, problems } = poolWith('timeout', c.text)
      if (c.resolved === null) {
        assert.equal(pool, undefined, `timeout ${JSON.stringify(c.text)} is refused`)
        assert.ok(
          problems.some((m) => m.includes(`is ${c.ms} ms, ${c.error ?? '?'}`)),
          `timeout ${JSON.stringify(c.text)}: ${problems.join('; ')}`,
        )
      } else assert.equal(pool?.timeoutMs, c.resolved, `timeout ${JSON.stringify(c.text)}: ${problems.join('; ')}`)
    }
  })

  void it('sizes: parseSize reads each as the vectors say (no unit for bytes alone)', () => {
    for (const c of vectors.sizes.cases) assert.equal(parseSize(c.text), c.bytes, `parseSize(${JSON.stringify(c.text)})`)
  })

  for (const field of ['memory', 'maxOutput'] as const) {
    void it(`${field}: resolved, or refused with the vectors' message`, () => {
      for (const c of vectors[field].cases) {
        assert.equal(parseSize(c.text), c.bytes, `parseSize(${JSON.stringify(c.text)})`)
        const { pool, problems } = poolWith(field, c.text)
        if (c.resolved === null) {
          assert.equal(pool, undefined, `${field} ${JSON.stringify(c.text)} is refused`)
          assert.ok(
            problems.some((m) => m.includes(c.error ?? '?')),
            `${field} ${JSON.stringify(c.text)}: ${problems.join('; ')}`,
          )
        } else {
          assert.equal(field === 'memory' ? pool?.memoryBytes : pool?.maxOutputBytes, c.resolved, problems.join('; '))
        }
      }
    })
  }

  void it("cpu: a YAML number of cores resolved, or refused at its line with the vectors' message", () => {
    for (const c of vectors.cpu.cases) {
      const text = JSON.stringify(c.value)
      const file = f.write(
        `cpu-${Buffer.from(text).toString('hex')}.yaml`,
        `version: 1\npools:\n  p:\n    cpu: ${text}\nworkflows:\n  p.w: { pool: p, graph: wf/graph.ts, input: { type: object }, description: d }\n`,
      )
      const { registry, problems } = rebuildRegistry(file)
      if (c.resolved === null) {
        assert.equal(registry, null, `cpu ${text} is refused`)
        const said = problems.map((p) => `${p.file}:${p.line} ${p.message}`)
        assert.ok(
          problems.some((p) => p.file === file && p.line === 4 && p.message.includes(c.error ?? '?')),
          `cpu ${text}: ${said.join('; ')}`,
        )
      } else {
        assert.ok(registry, `cpu ${text}: ${problems.map((p) => p.message).join('; ')}`)
        assert.equal(resolvedRegistry(registry).pools.p?.cpuCores, c.resolved)
      }
    }
  })

  void it('defaults: an empty pool and a bare workflow resolve to the vectors', () => {
    const { registry, problems } = rebuildRegistry(f.write('defaults.yaml', vectors.defaults.registry.replace('graph.ts', 'wf/graph.ts')))
    assert.deepEqual(problems, [])
    assert.ok(registry)
    const resolved = resolvedRegistry(registry)
    assert.deepEqual(resolved.pools.p, vectors.defaults.pool)
    const workflow = resolved.workflows['p.w']
    assert.ok(workflow)
    for (const [key, value] of Object.entries(vectors.defaults.workflow)) {
      assert.deepEqual(workflow[key as keyof typeof workflow], value, `workflow ${key}`)
    }
  })
})
