// JSON Schema validation for structured model output and a run's output. Ajv loads on
// first use (it is not light), and each schema compiles once per process. Patterns
// match in linear time (control's linearRegExp: RE2), as route()'s input validators do.

/** One reason a value does not fit its schema. */
export interface SchemaViolation {
  readonly path: string
  readonly message: string
}

export type SchemaCheck = (value: unknown) => readonly SchemaViolation[]

type AjvLike = { compile(schema: object): ((value: unknown) => boolean) & { errors?: AjvErrorLike[] | null } }
type AjvErrorLike = { instancePath: string; message?: string; params?: Record<string, unknown> }

let ajv: Promise<AjvLike> | undefined
const compiled = new WeakMap<object, SchemaCheck>()

/** A validator for `schema`, compiled once and cached by schema identity. */
export async function schemaCheckFor(schema: { readonly [key: string]: unknown }): Promise<SchemaCheck> {
  const cached = compiled.get(schema)
  if (cached) return cached
  ajv ??= loadAjv()
  const check = (await ajv).compile(schema as object)
  const validate: SchemaCheck = (value) =>
    check(value)
      ? []
      : (check.errors ?? []).map((e) => ({
          path: e.instancePath || '/',
          message:
            e.params && 'additionalProperty' in e.params
              ? `${e.message} '${String(e.params.additionalProperty)}'`
              : (e.message ?? 'is invalid'),
        }))
  compiled.set(schema, validate)
  return validate
}

/** `/subject: must NOT have more than 80 characters; /: must have required property 'body'` */
export function describeIssues(issues: readonly SchemaViolation[]): string {
  return issues.map((i) => `${i.path}: ${i.message}`).join('; ')
}

async function loadAjv(): Promise<AjvLike> {
  // Both are CommonJS: under NodeNext the class sits on `.default` of the default export.
  const [ajvModule, formatsModule, { linearRegExp }] = await Promise.all([
    import('ajv/dist/2020.js'),
    import('ajv-formats'),
    import('../control/registry/index.js'),
  ])
  const Ajv2020 = (ajvModule.default as unknown as { default?: unknown }).default ?? ajvModule.default
  const addFormats = (formatsModule.default as unknown as { default?: unknown }).default ?? formatsModule.default
  const instance = new (Ajv2020 as new (options: object) => unknown)({ allErrors: true, strict: false, code: { regExp: linearRegExp } })
  ;(addFormats as unknown as (ajv: unknown) => void)(instance)
  return instance as unknown as AjvLike
}
