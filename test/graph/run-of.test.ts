import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { costOf, createRunContext, resolvePrices, runOf } from '../../src/graph/index.js'

void describe('runOf', () => {
  void it('finds the run the worker put in configurable', () => {
    const run = createRunContext({ workflow: 'email.compose' })
    assert.equal(runOf({ configurable: { run } }), run)
  })

  void it('says how to pass it when it is missing', () => {
    assert.throws(() => runOf({ configurable: {} }), {
      code: 'GRAPH_FAILED',
      message: "no run context in this node's config: invoke the graph with { configurable: { run } } (the worker does this)",
    })
  })
})

void describe('prices', () => {
  void it('SWITCHYARD_PRICES overrides the table, and explicit prices override both', () => {
    const usage = { inputTokens: 1_000_000, outputTokens: 1_000_000 }
    const fromEnv = resolvePrices({ SWITCHYARD_PRICES: '{"gpt-4o-mini": {"input": 1, "output": 2}}' })
    assert.equal(costOf(fromEnv, 'openai:gpt-4o-mini', 'gpt-4o-mini', usage), 3)
    const explicit = resolvePrices(
      { SWITCHYARD_PRICES: '{"gpt-4o-mini": {"input": 1, "output": 2}}' },
      { 'openai:gpt-4o-mini': { input: 0, output: 1 } },
    )
    assert.equal(costOf(explicit, 'openai:gpt-4o-mini', 'gpt-4o-mini', usage), 1)
  })

  void it('a dated model name costs what its family costs', () => {
    const usage = { inputTokens: 1_000_000, outputTokens: 0 }
    assert.equal(costOf(resolvePrices({}), 'openai:gpt-4o-mini-2024-07-18', 'gpt-4o-mini-2024-07-18', usage), 0.15)
    assert.equal(costOf(resolvePrices({}), 'anthropic:claude-3-5-haiku-20241022', 'claude-3-5-haiku-20241022', usage), 0.8)
  })

  void it('an unknown model costs 0 rather than a guess', () => {
    assert.equal(costOf(resolvePrices({}), 'openai-compatible:llama3.1', 'llama3.1', { inputTokens: 10, outputTokens: 10 }), 0)
  })
})
