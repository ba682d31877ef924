// switchyard-ai/graph — what graph authors import. Light by design: safe to import at
// module level in a graph file (no LangGraph, no AI SDK, no Ajv until first use).
export type {
  ChatMessage,
  GenerateRequest,
  GenerateResult,
  GraphFactory,
  GraphSetup,
  GraphWithIO,
  Logger,
  ModelClient,
  Prompt,
  RunContext,
  Runnable,
  Usage,
} from './types.js'
export { loadPrompt, parsePrompt, promptVariables } from './prompt.js'
export { createModel, type CreateModelOptions } from './create-model.js'
export { parseModelSpec, type ModelProvider, type ModelSpec } from './model-spec.js'
export { DEFAULT_PRICES, resolvePrices, costOf, type Price, type PriceTable } from './prices.js'
export { OFFLINE_LABEL } from './offline-object.js'
export { MESSAGES_LIMIT, MESSAGE_CONTENT_LIMIT } from './gen-ai-messages.js'
export { runOf } from './run-of.js'
export { defineGraph, isRunnable, runGraph, type GraphRunConfig, type OutputOf } from './define-graph.js'
export { createRunContext, setupOf, silentLogger } from './run-context.js'
export { schemaCheckFor, describeIssues, type SchemaViolation, type SchemaCheck } from './schema-validator.js'
