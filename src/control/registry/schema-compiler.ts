// Cold path only: checks JSON Schemas with Ajv and turns each input schema into
// standalone validator code, stored in the compiled registry so that route()
// never imports Ajv (bench/control-plane prints what importing it costs) — see
// route.ts for the other half.
import type { JsonSchema } from '../contract/index.js'
import { linearRegExp } from './linear-regexp.js'
import { requireHere } from './node-builtins.js'

/** One thing wrong with a schema: a JSON pointer into the schema, and why. */
export interface SchemaProblem {
  readonly pointer: string
  /** A key that should be located instead of the pointer's node (unknown keywords). */
  readonly key?: string
  readonly message: string
}

export interface SchemaCompilation {
  readonly issues: readonly SchemaProblem[]
  /** CommonJS source of the validator (Ajv standalone), when asked for and valid. */
  readonly code?: string
}

interface AjvError {
  instancePath: string
  keyword: string
  message?: string
  params: Record<string, unknown>
}
interface AjvInstance {
  validateSchema(schema: unknown): boolean
  errors?: AjvError[] | null
  compile(schema: unknown): unknown
  removeSchema(schema?: unknown): unknown
}

/** Ajv, configured exactly like the validators route() runs. */
function createAjv(): AjvInstance {
  const { default: Ajv2020, _ } = requireHere('ajv/dist/2020') as {
    default: new (options: object) => AjvInstance
    _: (strings: TemplateStringsArray, ...values: unknown[]) => unknown
  }
  const { default: addFormats } = requireHere('ajv-formats') as { default: (ajv: AjvInstance) => void }
  const ajv = new Ajv2020({
    allErrors: true,
    useDefaults: true,
    // Unknown keywords are typos ("requried") and must fail loudly; the type and
    // tuple checks of strict mode reject valid schemas, so they stay off.
    strictSchema: true,
    strictNumbers: true,
    strictTypes: false,
    strictTuples: false,
    strictRequired: false,
    allowUnionTypes: true,
    logger: false,
    // Patterns match in linear time (linear-regexp.ts), here and in the standalone code.
    code: { source: true, formats: _`require("ajv-formats/dist/formats").fullFormats`, regExp: linearRegExp },
  })
  addFormats(ajv)
  return ajv
}

/** Compiles schemas one by one with a single Ajv instance. */
export class SchemaCompiler {
  #ajv: AjvInstance | undefined
  #standalone: ((ajv: AjvInstance, validate: unknown) => string) | undefined

  compile(schema: JsonSchema, withCode: boolean): SchemaCompilation {
    this.#ajv ??= createAjv()
    const ajv = this.#ajv
    if (!ajv.validateSchema(schema)) {
      return { issues: metaIssues(ajv.errors ?? []) }
    }
    let validate: unknown
    try {
      validate = ajv.compile(schema)
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      const unknownKeyword = /unknown keyword: "([^"]+)"/.exec(message)?.[1]
      return { issues: [{ pointer: '', key: unknownKeyword, message }] }
    }
    try {
      if (!withCode) return { issues: [] }
      this.#standalone ??= (requireHere('ajv/dist/standalone') as { default: (ajv: AjvInstance, validate: unknown) => string }).default
      return { issues: [], code: this.#standalone(ajv, validate) }
    } finally {
      // Frees the schema's $id: two files may declare the same one.
      if (typeof schema === 'object') ajv.removeSchema(schema)
    }
  }
}

/** Meta-schema errors, one per location (Ajv reports each anyOf branch too). */
function metaIssues(errors: readonly AjvError[]): SchemaProblem[] {
  const byPointer = new Map<string, SchemaProblem>()
  for (const error of errors) {
    if (byPointer.has(error.instancePath)) continue
    if (error.keyword === 'type' && error.instancePath === '') {
      byPointer.set('', { pointer: '', message: 'a JSON Schema must be an object or a boolean' })
      continue
    }
    const allowed =
      error.keyword === 'enum' && Array.isArray(error.params.allowedValues)
        ? `: ${error.params.allowedValues.map((v) => JSON.stringify(v)).join(', ')}`
        : ''
    byPointer.set(error.instancePath, { pointer: error.instancePath, message: `${error.message ?? error.keyword}${allowed}` })
  }
  return [...byPointer.values()]
}
