// Cold path only (registry rebuild and `switchyard check`): a YAML or JSON file
// parsed with positions, so every problem names the line the person wrote.
// `yaml` is loaded through require on first use, never by the runtime's hot path.
import { createRequire } from 'node:module'
import type * as Yaml from 'yaml'
import type { Document, LineCounter, Node as YamlNode, ParsedNode } from 'yaml'
import type { RegistryProblem } from '../contract/index.js'

type YamlModule = typeof Yaml
let yamlModule: YamlModule | undefined
function yaml(): YamlModule {
  yamlModule ??= createRequire(import.meta.url)('yaml') as YamlModule
  return yamlModule
}

/** A parsed file and the means to point into it. */
export interface SourceFile {
  /** The path as shown to the person (relative to the registry folder where possible). */
  readonly file: string
  readonly text: string
  readonly doc: Document.Parsed<ParsedNode>
  readonly lines: LineCounter
}

/** Where a node (or a byte offset) sits in its file. */
export function locate(source: SourceFile, at: YamlNode | number | null | undefined, message: string): RegistryProblem {
  const offset = typeof at === 'number' ? at : at?.range?.[0]
  if (offset === undefined) return { file: source.file, line: 1, column: 1, message }
  const { line, col } = source.lines.linePos(offset)
  return { file: source.file, line, column: col, message }
}

/**
 * Parse YAML (or JSON, which is YAML) keeping positions. Syntax errors come back
 * as problems; duplicate keys are found by `findDuplicateKeys`.
 */
export function parseSource(file: string, text: string, json: boolean): { source: SourceFile; problems: RegistryProblem[] } {
  const { parseDocument, LineCounter } = yaml()
  const lines = new LineCounter()
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: false, prettyErrors: false, merge: false })
  const source: SourceFile = { file, text, doc, lines }
  const problems: RegistryProblem[] = []
  for (const error of [...doc.errors, ...doc.warnings]) {
    problems.push(locate(source, error.pos[0], error.message.split('\n')[0] ?? error.message))
  }
  // YAML accepts what JSON does not (trailing commas, comments, single quotes):
  // a .json file must also be JSON.
  if (json && problems.length === 0) {
    try {
      JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text)
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      const position = /at position (\d+)/.exec(message)
      problems.push(
        locate(
          source,
          position ? Number(position[1]) : text.length,
          `invalid JSON: ${message.replace(/ in JSON at position \d+.*$/s, '')}`,
        ),
      )
    }
  }
  return { source, problems }
}

/** The yaml type guards, loaded with the parser. */
export function guards(): Pick<YamlModule, 'isMap' | 'isSeq' | 'isScalar' | 'isPair'> {
  const { isMap, isSeq, isScalar, isPair } = yaml()
  return { isMap, isSeq, isScalar, isPair }
}

/**
 * Every duplicate key in every map of the file, reported at the second place and
 * naming the first (`JSON.parse` and YAML loaders silently keep one of them).
 * `noun(path)` names what the keys of the map at `path` are ('workflow', 'pool').
 */
export function findDuplicateKeys(source: SourceFile, noun: (path: readonly string[]) => string = () => 'key'): RegistryProblem[] {
  const { isMap, isSeq, isScalar } = yaml()
  const problems: RegistryProblem[] = []
  const visit = (node: unknown, path: string[]): void => {
    if (isSeq(node)) node.items.forEach((item, i) => visit(item, [...path, String(i)]))
    if (!isMap(node)) return
    const seen = new Map<string, number>()
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key)
      const keyNode = pair.key as YamlNode | null
      const offset = keyNode?.range?.[0] ?? 0
      const first = seen.get(key)
      if (first === undefined) seen.set(key, offset)
      else {
        const firstLine = source.lines.linePos(first).line
        problems.push(locate(source, offset, `duplicate ${noun(path)} '${key}' (first defined at line ${firstLine})`))
      }
      visit(pair.value, [...path, key])
    }
  }
  visit(source.doc.contents, [])
  return problems
}
