// `switchyard check`'s second half: graph modules and the files under their
// folders import nothing at module level but types and `switchyard-ai/graph`
// (DESIGN §2.5), so a pool loads a graph's heavy dependencies only when it
// runs that graph. Parsed with the TypeScript compiler, loaded on first use.
// Python graph modules (`.py`) follow the same rule on Python's own AST: a
// PythonLint (python3 -m switchyard_worker.lint, run by the CLI) reads them.
import { readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, extname, join } from 'node:path'
import type * as TypeScript from 'typescript'
import type { Registry } from '../contract/index.js'

/** One module-level value import in a graph's folder. */
export interface ImportOffence {
  readonly file: string
  readonly line: number
  readonly column: number
  readonly specifier: string
  readonly message: string
}

/** A graph module that does not export the name the registry gives (`module#export`). */
export interface MissingExport {
  readonly file: string
  readonly workflow: string
  readonly export: string
  readonly message: string
}

/** The one module graph files may import values from at module level. */
export const GRAPH_HELPERS = 'switchyard-ai/graph'

const SOURCE = new Set(['.ts', '.mts', '.cts', '.tsx', '.js', '.mjs', '.cjs', '.jsx'])
const PYTHON = new Set(['.py'])
const SKIPPED_PYTHON_DIRS = new Set(['__pycache__', '.venv', 'venv', '.mypy_cache', '.pytest_cache'])

/** What the Python lint says of one file. */
export interface PythonFileLint {
  readonly offences: readonly ImportOffence[]
  /** Top-level functions, classes and assignments. */
  readonly names: readonly string[]
  /** A syntax error or an unreadable file, as `file:line:col: message`. */
  readonly error: string | null
}

/** Lints Python files (all at once: one interpreter start). */
export type PythonLint = (files: readonly string[]) => ReadonlyMap<string, PythonFileLint>

export interface LintOptions {
  /** How to read Python graph modules. Absent: each one is reported as not checked. */
  readonly python?: PythonLint
}

const isPython = (file: string): boolean => PYTHON.has(extname(file))
const SKIPPED_DIRS = new Set(['node_modules', '.switchyard', 'dist', '.git'])

let ts: typeof TypeScript | undefined

/** Every file to lint: each graph module and every source file under its folder. */
export function graphFiles(registry: Registry): string[] {
  const files = new Set<string>()
  // A graph's folder is linted in its graph's language: a Python graph's .py files, a TypeScript graph's sources.
  const walk = (dir: string, python: boolean): void => {
    let entries
    try {
      entries = readdirSync(dir, { withFileTypes: true })
    } catch {
      return
    }
    for (const entry of entries) {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) {
        if (!SKIPPED_DIRS.has(entry.name) && !SKIPPED_PYTHON_DIRS.has(entry.name)) walk(path, python)
      } else if (python ? PYTHON.has(extname(entry.name)) : SOURCE.has(extname(entry.name)) && !entry.name.endsWith('.d.ts')) {
        files.add(path)
      }
    }
  }
  for (const workflow of registry.workflows.values()) {
    files.add(workflow.graph.module)
    // A graph beside the registry file has no folder of its own: walking the
    // registry's folder would lint the whole project.
    if (dirname(workflow.graph.module) !== registry.root) walk(dirname(workflow.graph.module), isPython(workflow.graph.module))
  }
  return [...files].sort()
}

/** Lint every graph module of the registry and the files under its folder. */
export function lintGraphs(registry: Registry, options: LintOptions = {}): ImportOffence[] {
  const files = graphFiles(registry)
  const python = pythonLints(files.filter(isPython), options)
  return files.flatMap((file) => {
    if (!isPython(file)) return lintFile(file, readFileSync(file, 'utf8'))
    const lint = python.get(file)
    if (lint?.error) return [{ file, line: 0, column: 0, specifier: '', message: lint.error }]
    return lint ? [...lint.offences] : []
  })
}

function pythonLints(files: readonly string[], options: LintOptions): ReadonlyMap<string, PythonFileLint> {
  if (files.length === 0) return new Map()
  if (options.python) return options.python(files)
  const error = 'Python graph module not checked: no Python lint was given'
  return new Map(files.map((file) => [file, { offences: [], names: [], error }]))
}

/**
 * Workflows whose graph module visibly lacks the export the registry names.
 * A module with `export * from …` is given the benefit of the doubt.
 */
export function findMissingExports(registry: Registry, options: LintOptions = {}): MissingExport[] {
  const missing: MissingExport[] = []
  const cache = new Map<string, Set<string> | null>()
  const modules = [...new Set([...registry.workflows.values()].map((w) => w.graph.module))]
  const python = pythonLints(modules.filter(isPython), options)
  for (const workflow of registry.workflows.values()) {
    const file = workflow.graph.module
    if (!cache.has(file)) {
      // A Python module that could not be read is reported by lintGraphs; nothing to say here.
      const lint = python.get(file)
      cache.set(file, isPython(file) ? (lint && !lint.error ? new Set(lint.names) : null) : exportsOf(file, readFileSync(file, 'utf8')))
    }
    const names = cache.get(file)
    if (names && !names.has(workflow.graph.export)) {
      const known = [...names].sort()
      const what = isPython(file) ? 'function' : 'export'
      missing.push({
        file,
        workflow: workflow.name,
        export: workflow.graph.export,
        message: `workflow '${workflow.name}': the graph module has no ${what} '${workflow.graph.export}' (it ${isPython(file) ? 'defines' : 'exports'}: ${known.join(', ') || 'nothing'})`,
      })
    }
  }
  return missing
}

/** The names a module exports, or null when it re-exports everything of another module. */
export function exportsOf(file: string, text: string): Set<string> | null {
  const t = typescript()
  const source = t.createSourceFile(file, text, t.ScriptTarget.Latest, true, scriptKind(t, file))
  const names = new Set<string>()
  const exported = (node: TypeScript.Node) =>
    t.canHaveModifiers(node) && (t.getModifiers(node) ?? []).some((m) => m.kind === t.SyntaxKind.ExportKeyword)
  const isDefault = (node: TypeScript.Node) =>
    t.canHaveModifiers(node) && (t.getModifiers(node) ?? []).some((m) => m.kind === t.SyntaxKind.DefaultKeyword)
  for (const statement of source.statements) {
    if (t.isExportDeclaration(statement)) {
      if (!statement.exportClause) return null
      if (t.isNamedExports(statement.exportClause)) for (const e of statement.exportClause.elements) names.add(e.name.text)
      else names.add(statement.exportClause.name.text)
    } else if (t.isExportAssignment(statement)) names.add('default')
    else if (exported(statement)) {
      if (isDefault(statement)) names.add('default')
      else if (t.isVariableStatement(statement)) {
        for (const d of statement.declarationList.declarations) if (t.isIdentifier(d.name)) names.add(d.name.text)
      } else if ((t.isFunctionDeclaration(statement) || t.isClassDeclaration(statement)) && statement.name) names.add(statement.name.text)
    }
  }
  // CommonJS graph modules (module.exports = …) cannot be read this way.
  return names.size === 0 && /\b(module\.exports|exports\.)/.test(text) ? null : names
}

function typescript(): typeof TypeScript {
  ts ??= createRequire(import.meta.url)('typescript') as typeof TypeScript
  return ts
}

function scriptKind(t: typeof TypeScript, file: string): TypeScript.ScriptKind {
  if (/\.[mc]?tsx?$/.test(file)) return file.endsWith('x') ? t.ScriptKind.TSX : t.ScriptKind.TS
  return file.endsWith('x') ? t.ScriptKind.JSX : t.ScriptKind.JS
}

/** The module-level value imports of one file (`file` is used for the report and the script kind). */
export function lintFile(file: string, text: string): ImportOffence[] {
  const t = typescript()
  const source = t.createSourceFile(file, text, t.ScriptTarget.Latest, true, scriptKind(t, file))
  const offences: ImportOffence[] = []
  const report = (node: TypeScript.Node, specifier: string, what: string): void => {
    const { line, character } = source.getLineAndCharacterOfPosition(node.getStart(source))
    offences.push({
      file,
      line: line + 1,
      column: character + 1,
      specifier,
      message: `module-level ${what} of '${specifier}': import it inside the graph factory (await import('${specifier}')) or use 'import type'`,
    })
  }
  const literal = (node: TypeScript.Node | undefined): string | null => (node && t.isStringLiteralLike(node) ? node.text : null)

  for (const statement of source.statements) {
    if (t.isImportDeclaration(statement)) {
      const specifier = literal(statement.moduleSpecifier) ?? '?'
      if (specifier === GRAPH_HELPERS || isTypeOnlyImport(t, statement)) continue
      report(statement, specifier, 'import')
    } else if (t.isExportDeclaration(statement) && statement.moduleSpecifier) {
      const specifier = literal(statement.moduleSpecifier) ?? '?'
      if (specifier === GRAPH_HELPERS || isTypeOnlyExport(t, statement)) continue
      report(statement, specifier, 're-export')
    } else if (t.isImportEqualsDeclaration(statement) && !statement.isTypeOnly && t.isExternalModuleReference(statement.moduleReference)) {
      const specifier = literal(statement.moduleReference.expression) ?? '?'
      if (specifier !== GRAPH_HELPERS) report(statement, specifier, 'import')
    } else {
      // require() and import() run at module level too when not inside a function.
      const visit = (node: TypeScript.Node): void => {
        if (t.isFunctionLike(node) || t.isClassLike(node)) return
        if (t.isCallExpression(node)) {
          const specifier = literal(node.arguments[0])
          const isRequire = t.isIdentifier(node.expression) && node.expression.text === 'require'
          if (specifier !== null && specifier !== GRAPH_HELPERS && (isRequire || node.expression.kind === t.SyntaxKind.ImportKeyword)) {
            report(node, specifier, isRequire ? 'require()' : 'import()')
          }
        }
        t.forEachChild(node, visit)
      }
      visit(statement)
    }
  }
  return offences
}

/** `import type …`, `import { type A, type B } …` — erased entirely by TypeScript. */
function isTypeOnlyImport(t: typeof TypeScript, node: TypeScript.ImportDeclaration): boolean {
  const clause = node.importClause
  if (!clause) return false // `import 'x'` runs x
  if (clause.isTypeOnly) return true
  if (clause.name) return false
  const bindings = clause.namedBindings
  return (
    bindings !== undefined && t.isNamedImports(bindings) && bindings.elements.length > 0 && bindings.elements.every((e) => e.isTypeOnly)
  )
}

function isTypeOnlyExport(t: typeof TypeScript, node: TypeScript.ExportDeclaration): boolean {
  if (node.isTypeOnly) return true
  const clause = node.exportClause
  return clause !== undefined && t.isNamedExports(clause) && clause.elements.length > 0 && clause.elements.every((e) => e.isTypeOnly)
}
