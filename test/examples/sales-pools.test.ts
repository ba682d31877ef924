// The three sales workflows through the real runtime path (registry → route → broker →
// pool worker → graph module importing 'switchyard-ai/graph'), offline model.
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { loadRegistry } from '../../src/control/index.js'
import { startPools, type InProcessPools } from './in-process-pool.js'
import { readJson, SALES } from './workflow-kit.js'

void describe('sales registry on the embedded broker', () => {
  let pools: InProcessPools
  before(async () => {
    pools = await startPools(loadRegistry(join(SALES, 'switchyard.yaml')), ['email', 'classify', 'discovery'])
  })
  after(() => pools.close())

  void it('email.compose answers its example', async () => {
    const record = await pools.run('email.compose', readJson('email-compose', 'example.json'))
    assert.equal(record.status, 'succeeded', JSON.stringify(record.error))
    assert.equal((record.output as { model: string }).model, 'offline')
  })

  void it('classify.country answers its example', async () => {
    const record = await pools.run('classify.country', readJson('classify-country', 'example.json'))
    assert.equal(record.status, 'succeeded', JSON.stringify(record.error))
    assert.equal((record.output as { country: string }).country, 'AT')
  })

  void it('discovery.accounts answers its example', async () => {
    const record = await pools.run('discovery.accounts', readJson('discovery-accounts', 'example.json'))
    assert.equal(record.status, 'succeeded', JSON.stringify(record.error))
    assert.equal((record.output as { accounts: unknown[] }).accounts.length, 10)
  })

  void it('refuses an input that does not fit the workflow schema before it reaches a pool', async () => {
    await assert.rejects(pools.run('classify.country', { adress: 'Wien' }), {
      code: 'INVALID_INPUT',
      message: "invalid input for 'classify.country': /adress: is not allowed",
    })
  })
})
