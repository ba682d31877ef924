import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { Ajv2020 } from 'ajv/dist/2020.js'
import { parse } from 'yaml'
import { generateRegistry } from '../../../bench/control-plane/generate-registry.js'
import { REGISTRY_KEYS } from '../../../src/control/tooling/index.js'
import { folder } from '../fixture.js'

const spec = JSON.parse(readFileSync('spec/registry.schema.json', 'utf8')) as {
  properties: Record<string, unknown>
  $defs: Record<string, { properties: Record<string, unknown> }>
}
const validate = new Ajv2020({ allErrors: true, strict: false }).compile(spec)
const f = folder()
after(() => f.remove())

void describe('spec/registry.schema.json', () => {
  void it('lists exactly the keys the loader accepts', () => {
    assert.deepEqual(Object.keys(spec.properties).sort(), [...REGISTRY_KEYS.top].sort())
    assert.deepEqual(Object.keys(spec.$defs.pool?.properties ?? {}).sort(), [...REGISTRY_KEYS.pool].sort())
    assert.deepEqual(Object.keys(spec.$defs.tracing?.properties ?? {}).sort(), [...REGISTRY_KEYS.tracing].sort())
    assert.deepEqual(Object.keys(spec.$defs.workflow?.properties ?? {}).sort(), [...REGISTRY_KEYS.workflow].sort())
  })

  void it('accepts the example and a generated registry', () => {
    for (const file of ['examples/sales/switchyard.yaml', generateRegistry(join(f.dir, 'gen'), 3)]) {
      assert.ok(validate(parse(readFileSync(file, 'utf8'))), `${file}: ${JSON.stringify(validate.errors)}`)
    }
  })

  void it('rejects a typo, a bad name, a bad duration', () => {
    const registry = (pool: object, name = 'a.b') => ({
      version: 1,
      pools: { email: pool },
      workflows: { [name]: { pool: 'email', graph: 'g.ts#graph', input: {}, description: 'd' } },
    })
    assert.ok(validate(registry({ timeout: '2m' })))
    assert.ok(!validate(registry({ timout: '2m' })))
    assert.ok(!validate(registry({ timeout: '2 minutes' })))
    assert.ok(!validate(registry({}, 'Bad_Name')))
  })
})
