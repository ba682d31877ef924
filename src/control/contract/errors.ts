// One error base class with a stable `code` from the closed map in ./error-codes.ts;
// subclasses only where callers branch.
import { ERROR_CODES, isErrorCode, type ErrorCode } from './error-codes.js'

export type { ErrorCode }

export interface SwitchyardErrorOptions {
  readonly cause?: unknown
  /** Whether a retry may succeed. Defaults to the code's own (ERROR_CODES). */
  readonly retryable?: boolean
}

export class SwitchyardError extends Error {
  readonly code: ErrorCode
  readonly retryable: boolean

  constructor(code: ErrorCode, message: string, options: SwitchyardErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'SwitchyardError'
    this.code = code
    this.retryable = options.retryable ?? ERROR_CODES[code].retryable
  }

  /** The plain form that crosses processes (IPC, queue, HTTP). */
  toJSON(): { code: string; message: string; retryable: boolean } {
    return { code: this.code, message: this.message, retryable: this.retryable }
  }

  /**
   * Normalise anything thrown at a boundary into a SwitchyardError. An error (or a plain
   * object that crossed a process) keeps its code when it is one of Switchyard's; any
   * other code (ECONNREFUSED, a library's own) becomes `fallback`, its message kept.
   */
  static from(error: unknown, fallback: ErrorCode = 'INTERNAL'): SwitchyardError {
    if (error instanceof SwitchyardError) return error
    if (error instanceof Error) {
      const code = (error as { code?: unknown }).code
      return new SwitchyardError(isErrorCode(code) ? code : fallback, error.message, { cause: error })
    }
    if (typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'string') {
      const plain = error as { code: string; message?: unknown; retryable?: unknown }
      return new SwitchyardError(isErrorCode(plain.code) ? plain.code : fallback, String(plain.message ?? plain.code), {
        retryable: plain.retryable === true,
      })
    }
    return new SwitchyardError(fallback, String(error))
  }
}

/** One problem in a registry file, located where the person wrote it. */
export interface RegistryProblem {
  readonly file: string
  /** 1-based; 0 when no line applies (a missing file, say). */
  readonly line: number
  readonly column: number
  readonly message: string
}

export class RegistryError extends SwitchyardError {
  readonly problems: readonly RegistryProblem[]

  constructor(problems: readonly RegistryProblem[]) {
    const lines = problems.map((p) => `${p.file}${p.line ? `:${p.line}:${p.column}` : ''}: ${p.message}`)
    super(
      'REGISTRY_INVALID',
      `registry is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n  ${lines.join('\n  ')}`,
    )
    this.name = 'RegistryError'
    this.problems = problems
  }
}

export class UnknownWorkflowError extends SwitchyardError {
  readonly workflow: string
  readonly suggestions: readonly string[]

  constructor(workflow: string, suggestions: readonly string[]) {
    const hint = suggestions.length ? ` Did you mean ${suggestions.map((s) => `'${s}'`).join(' or ')}?` : ''
    super('UNKNOWN_WORKFLOW', `unknown workflow '${workflow}'.${hint}`)
    this.name = 'UnknownWorkflowError'
    this.workflow = workflow
    this.suggestions = suggestions
  }
}

/** One violation of a workflow's input schema. */
export interface InputIssue {
  /** JSON pointer into the input, '' for the root. */
  readonly path: string
  readonly message: string
}

export class InvalidInputError extends SwitchyardError {
  readonly workflow: string
  readonly issues: readonly InputIssue[]

  constructor(workflow: string, issues: readonly InputIssue[]) {
    const list = issues.map((i) => `${i.path || '/'}: ${i.message}`).join('; ')
    super('INVALID_INPUT', `invalid input for '${workflow}': ${list}`)
    this.name = 'InvalidInputError'
    this.workflow = workflow
    this.issues = issues
  }
}
