// A RunContext built by hand: for tests, scripts and `switchyard new`'s smoke run.
// The worker builds its own (with the real deadline, signal and logger).
import { randomUUID } from 'node:crypto'
import { createModel } from './create-model.js'
import type { GraphSetup, Logger, RunContext } from './types.js'

/** A logger that drops everything. */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} }

/**
 * A RunContext with sensible defaults: offline model, no prompt, 2-minute deadline.
 *
 * @example
 * const out = await (await graph(setupOf(run))).invoke(input, { configurable: { run } })
 */
export function createRunContext(fields: Partial<RunContext> & { readonly workflow: string }): RunContext {
  const timeoutMs = 120_000
  const deadline = fields.deadline ?? new Date(Date.now() + timeoutMs)
  return {
    runId: fields.runId ?? randomUUID(),
    pool: fields.pool ?? 'default',
    attempt: fields.attempt ?? 1,
    signal: fields.signal ?? AbortSignal.timeout(Math.max(1, deadline.getTime() - Date.now())),
    deadline,
    prompt: fields.prompt ?? null,
    model: fields.model ?? createModel('offline'),
    log: fields.log ?? silentLogger,
    workflow: fields.workflow,
  }
}

/** The GraphSetup matching a RunContext (what a worker hands the factory once). */
export function setupOf(run: RunContext, root = process.cwd()): GraphSetup {
  return { workflow: run.workflow, pool: run.pool, root, prompt: run.prompt, model: run.model, log: run.log }
}
