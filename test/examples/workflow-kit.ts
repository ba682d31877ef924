// Shared by the sales-workflow tests: a run context on a chosen model, the workflow's
// files, and its output schema as a validator.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createModel, createRunContext, loadPrompt, setupOf, schemaCheckFor } from '../../src/graph/index.js'
import type { ModelClient, RunContext } from '../../src/graph/index.js'

export const SALES = join(import.meta.dirname, '../../examples/sales')

export function workflowFile(folder: string, file: string): string {
  return join(SALES, 'workflows', folder, file)
}

export function readJson<T = unknown>(folder: string, file: string): T {
  return JSON.parse(readFileSync(workflowFile(folder, file), 'utf8')) as T
}

export function runFor(workflow: string, pool: string, folder: string, model: ModelClient = createModel('offline')): RunContext {
  return createRunContext({ workflow, pool, model, prompt: loadPrompt(workflowFile(folder, 'prompt.md')) })
}

export { setupOf }

/** Problems of `value` against the workflow's output schema ([] when it fits). */
export async function outputProblems(folder: string, value: unknown) {
  const validate = await schemaCheckFor(readJson<Record<string, unknown>>(folder, 'output.schema.json'))
  return validate(value)
}
