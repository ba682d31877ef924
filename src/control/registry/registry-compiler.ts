// Cold path: the registry file (YAML or JSON) → its compiled form, or every
// problem in it, each located where the person wrote it (DESIGN §2.1).
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs'
import { basename, dirname, extname, isAbsolute, relative, resolve, sep } from 'node:path'
import type { Node as YamlNode, Pair } from 'yaml'
import { canonicalJson } from './canonical-json.js'
import { COMPILED_FORMAT, type Compilation, type CompiledRegistry, type WorkflowColumns } from './compiled-registry.js'
import { contentId } from './cache-trust.js'
import { stampFolders } from './cache-freshness.js'
import { sha256 } from './node-builtins.js'
import type { RegistryProblem, Capture, JsonSchema, Pool, Runtime, TracingConfig, Workflow } from '../contract/index.js'
import { CPU_CORES, MAX_TIMEOUT_MS, MIN_MEMORY_BYTES, OUTPUT_BYTES, parseDuration, parseSize, POOL_DEFAULTS } from './registry-rules.js'
import { structureProblems } from './registry-structure.js'
import { SchemaCompiler } from './schema-compiler.js'

/** An env variable name, as `secrets:` lists them. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/
import { findDuplicateKeys, guards, locate, parseSource, type SourceFile } from './source-file.js'
import { suggest } from '../suggest.js'

interface Entry {
  readonly key: string
  readonly keyNode: YamlNode | null
  readonly value: YamlNode | null
}

/** How a path is shown: relative to the working directory when inside it. */
function shown(path: string): string {
  const rel = relative(process.cwd(), path)
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path
}

/** A file the registry was built from, as it was then: absolute path, stat fields (cache-freshness.ts) and `sha256:` of the bytes. */
type FileStamp = readonly [path: string, size: number, mtimeMs: number, hash: string, ctimeMs: number, ino: number]

/** Taken after the bytes were read: a file changed in between has a stamp past `builtAt`, so its bytes are hashed at load. */
function stamp(path: string, bytes: Buffer): FileStamp {
  const stat = statSync(path)
  return [path, stat.size, stat.mtimeMs, sha256(bytes), stat.ctimeMs, stat.ino]
}

/** The compiled form (load-registry.ts, COMPILED_FORMAT) of a clean registry, and the hashes of the files it stamps. */
function compiledForm(
  head: Pick<CompiledRegistry, 'source' | 'root' | 'builtAt' | 'digest'>,
  files: readonly FileStamp[],
  pools: readonly Pool[],
  workflows: readonly Workflow[],
  validatorIds: ReadonlyMap<string, string>,
  schemaFiles: ReadonlyMap<string, readonly string[]>,
  schemas: string,
): { compiled: CompiledRegistry; hashes: string[] } {
  const hashes = files.map(([, , , hash]) => hash)
  const column = <T>(field: (workflow: Workflow) => T): T[] => workflows.map(field)
  const columns: Omit<WorkflowColumns, 'files' | 'exist'> = {
    name: column((wf) => wf.name),
    pool: column((wf) => wf.pool),
    graph: column((wf) => wf.graph.ref),
    prompt: column((wf) => (wf.prompt === null ? null : relative(head.root, wf.prompt))),
    description: column((wf) => wf.description),
    timeoutMs: column((wf) => wf.timeoutMs),
    retries: column((wf) => wf.retries),
    validator: column((wf) => validatorIds.get(wf.name) ?? ''),
  }
  const paths = files.map(([path]) => path)
  const fileIndex = new Map(paths.map((path, i) => [path, i]))
  const poolEnv = pools.flatMap((pool) => (pool.env === null ? [] : [pool.env]))
  const exist = [...new Set([...poolEnv, ...workflows.flatMap((wf) => [wf.graph.module, wf.prompt])])].filter((path) => path !== null)
  const existIndex = new Map(exist.map((path, i) => [path, i]))
  const indices = (list: readonly (string | null | undefined)[], index: ReadonlyMap<string, number>): number[] => [
    ...new Set(list.flatMap((path) => (path == null ? [] : (index.get(path) ?? [])))),
  ]
  const stamps = stampFolders(paths, exist)
  const compiled: CompiledRegistry = {
    format: COMPILED_FORMAT,
    ...head,
    files: {
      name: paths.map((path) => basename(path)),
      size: files.map(([, size]) => size),
      mtimeMs: files.map(([, , mtimeMs]) => mtimeMs),
      ctimeMs: files.map(([, , , , ctimeMs]) => ctimeMs),
      ino: files.map(([, , , , , ino]) => ino),
      folder: stamps.fileFolder,
      hashes: sha256(JSON.stringify(hashes)).slice('sha256:'.length, 'sha256:'.length + 32),
    },
    folders: stamps.folders,
    exist: { ...stamps.exist, pools: indices(poolEnv, existIndex) },
    links: stamps.links,
    schemas,
    pools,
    workflows: {
      ...columns,
      files: workflows.map((wf) => indices(schemaFiles.get(wf.name) ?? [], fileIndex)),
      exist: workflows.map((wf) => indices([wf.graph.module, wf.prompt], existIndex)),
    },
  }
  return { compiled, hashes }
}

/** Compile the registry at `path`; never throws for problems in the files. */
export function compileRegistry(path: string): Compilation {
  const builtAt = Date.now()
  const source = resolve(path)
  const root = dirname(source)
  const file = shown(source)
  let bytes: Buffer
  try {
    bytes = readFileSync(source)
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT'
    return fail([
      { file, line: 0, column: 0, message: missing ? 'registry file not found' : `cannot read registry file: ${String(error)}` },
    ])
  }
  const parsed = parseSource(file, bytes.toString('utf8'), extname(source).toLowerCase() === '.json')
  if (parsed.problems.length) return fail(parsed.problems)
  const builder = new Builder(parsed.source, root)
  builder.problems.push(
    ...findDuplicateKeys(parsed.source, (at) =>
      at.length === 1 && at[0] === 'workflows' ? 'workflow' : at.length === 1 && at[0] === 'pools' ? 'pool' : 'key',
    ),
  )
  const files = [stamp(source, bytes)]
  builder.build(files)
  const problems = [...builder.problems].sort(
    (a, b) =>
      (a.file === b.file ? 0 : a.file === file ? -1 : b.file === file ? 1 : a.file < b.file ? -1 : 1) ||
      a.line - b.line ||
      a.column - b.column,
  )
  if (problems.length) return fail(problems)
  const workflows = [...builder.workflows.values()]
  const schemas = Object.fromEntries(workflows.map((wf) => [wf.name, { input: wf.input, output: wf.output }]))
  const { compiled, hashes } = compiledForm(
    { source, root, builtAt, digest: sha256(canonicalJson(builder.canonical())) },
    files,
    [...builder.pools.values()],
    workflows,
    builder.validatorIds,
    builder.schemaFiles,
    // The table is written as this JSON (registry-cache.ts), and checked against this id when read.
    contentId(JSON.stringify(schemas)),
  )
  return { compiled, codes: builder.codes, schemas, hashes, problems: [] }
}

function fail(problems: readonly RegistryProblem[]): Compilation {
  return { compiled: null, codes: new Map(), schemas: {}, hashes: [], problems }
}

/** Walks the parsed registry once, resolving what is valid and collecting every problem. */
class Builder {
  readonly problems: RegistryProblem[] = []
  readonly pools = new Map<string, Pool>()
  readonly workflows = new Map<string, Workflow>()
  readonly validatorIds = new Map<string, string>()
  /** The schema files each workflow names (absolute), for its own freshness check. */
  readonly schemaFiles = new Map<string, string[]>()
  readonly codes = new Map<string, string>()
  readonly #schemas = new SchemaCompiler()
  readonly #schemaFiles = new Map<string, { schema: JsonSchema; stamp: FileStamp } | null>()
  readonly #codeBySchema = new Map<string, string | null>()
  readonly #guards = guards()
  /** Nodes the schema found a problem at. */
  readonly #flagged = new Set<YamlNode>()
  /**
   * Real paths of the folders every path must resolve into, symlinks followed
   * (DESIGN §2.1): the registry's own and each `shared:` one.
   */
  readonly #folders: string[]

  constructor(
    readonly source: SourceFile,
    readonly root: string,
  ) {
    this.#folders = [realpathSync.native(root)]
  }

  /** A problem at `at`; dropped where the schema already found one (its wording says more). */
  problem(at: YamlNode | null | undefined, message: string, source: SourceFile = this.source): void {
    if (source === this.source && at && this.#flagged.has(at)) return
    this.problems.push(locate(source, at, message))
  }

  /** The schema's problems (registry-structure.ts), each at the node it names. */
  structure(): void {
    const root = this.source.doc.contents as YamlNode | null
    for (const { at, atKey, message } of structureProblems(this.source.doc.toJS())) {
      const node = this.nodeAt(root, at, atKey) ?? root
      this.problems.push(locate(this.source, node, message))
      if (node) this.#flagged.add(node)
    }
  }

  /** The node at a pointer: the value (or, for `atKey` or an empty value, the key); the nearest node when absent. */
  nodeAt(root: YamlNode | null, at: readonly string[], atKey: boolean): YamlNode | null {
    const { isMap, isSeq, isScalar } = this.#guards
    let current = root
    for (const [i, token] of at.entries()) {
      if (isSeq(current)) {
        current = (current.items[Number(token)] as YamlNode | undefined) ?? current
        continue
      }
      if (!isMap(current)) return current
      const pair = (current.items as Pair<YamlNode | null, YamlNode | null>[]).find((p) => isScalar(p.key) && String(p.key.value) === token)
      if (!pair) return current
      const last = i === at.length - 1
      current = (last && atKey) || pair.value === null ? pair.key : pair.value
    }
    return current
  }

  build(files: FileStamp[]): void {
    this.structure()
    // What follows resolves values and checks what the schema cannot state; a value of
    // the wrong shape was reported above and falls back here, silently.
    const top = this.entries(this.source.doc.contents as YamlNode | null)
    if (!top) return
    this.shared(top.get('shared'))
    for (const entry of this.entries(top.get('pools')?.value ?? null)?.values() ?? []) this.pool(entry)
    for (const entry of this.entries(top.get('workflows')?.value ?? null)?.values() ?? []) this.workflow(entry)
    for (const loaded of this.#schemaFiles.values()) if (loaded) files.push(loaded.stamp)
  }

  /** The canonical content the digest covers: resolved values, paths relative to the registry. */
  canonical(): unknown {
    const rel = (path: string | null) => (path === null ? null : relative(this.root, path).split('\\').join('/'))
    return {
      version: 1,
      pools: Object.fromEntries([...this.pools].map(([name, pool]) => [name, { ...pool, env: rel(pool.env) }])),
      workflows: Object.fromEntries(
        [...this.workflows].map(([name, wf]) => [name, { ...wf, graph: wf.graph.ref, prompt: rel(wf.prompt) }]),
      ),
    }
  }

  /** The pairs of a map (the first of duplicate keys, which are reported elsewhere); null for a non-map. */
  entries(node: YamlNode | null): Map<string, Entry> | null {
    const { isMap, isScalar } = this.#guards
    if (node === null || (isScalar(node) && node.value === null)) return new Map()
    if (!isMap(node)) return null
    const result = new Map<string, Entry>()
    for (const pair of node.items as Pair<YamlNode | null, YamlNode | null>[]) {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key)
      if (!result.has(key)) result.set(key, { key, keyNode: pair.key, value: pair.value })
    }
    return result
  }

  value(entry: Entry): unknown {
    const { isScalar } = this.#guards
    if (entry.value === null) return null
    return isScalar(entry.value) ? entry.value.value : entry.value.toJS(this.source.doc)
  }

  show(entry: Entry): string {
    const value = this.value(entry)
    return value === null ? 'nothing' : JSON.stringify(value)
  }

  at(entry: Entry): YamlNode | null {
    return entry.value ?? entry.keyNode
  }

  integer(entry: Entry | undefined, min: number, fallback: number): number {
    const value = entry ? this.value(entry) : undefined
    return typeof value === 'number' && Number.isInteger(value) && value >= min ? value : fallback
  }

  /** A duration; one of the right shape that is no time at all ('0s') is reported here. */
  duration(entry: Entry | undefined, label: string, fallback: number): number {
    if (!entry) return fallback
    const value = this.value(entry)
    const ms = typeof value === 'string' ? parseDuration(value) : null
    if (ms !== null && ms > MAX_TIMEOUT_MS) {
      this.problem(
        this.at(entry),
        `${label}: ${this.show(entry)} is ${ms} ms, longer than the longest timeout, ${MAX_TIMEOUT_MS} ms (about 24.8 days): ` +
          'Node fires a longer timer after 1 ms',
      )
      return fallback
    }
    if (ms !== null) return ms
    this.problem(this.at(entry), `${label}: ${this.show(entry)} is not a duration (use 250ms, 30s, 2m or 1h)`)
    return fallback
  }

  oneOf<T extends string>(entry: Entry | undefined, allowed: readonly T[], fallback: T): T {
    const value = entry ? this.value(entry) : undefined
    return allowed.includes(value as T) ? (value as T) : fallback
  }

  text(entry: Entry | undefined): string | null {
    const value = entry ? this.value(entry) : undefined
    return typeof value === 'string' && value.trim() !== '' ? value : null
  }

  /** A path relative to the registry that must exist; absolute, or null. */
  file(entry: Entry | undefined, label: string): string | null {
    const text = this.text(entry)
    if (text === null || !entry) return null
    const path = resolve(this.root, text)
    if (!existsSync(path)) {
      this.problem(this.at(entry), `${label}: file not found: ${text}`)
      return null
    }
    return this.inside(entry, label, text, path) ? path : null
  }

  /**
   * `shared:` — folders outside the registry's own that paths may resolve into,
   * each named on purpose (a team's common prompts or schemas, say).
   */
  shared(entry: Entry | undefined): void {
    if (!entry) return
    const { isScalar, isSeq } = this.#guards
    if (!isSeq(entry.value)) return
    for (const item of entry.value.items as (YamlNode | null)[]) {
      const text = isScalar(item) ? item.value : null
      if (typeof text !== 'string' || text.trim() === '') continue
      let real: string
      try {
        real = realpathSync.native(resolve(this.root, text))
      } catch {
        this.problem(item, `shared: folder not found: ${text}`)
        continue
      }
      if (!statSync(real).isDirectory()) this.problem(item, `shared: ${text} is not a folder`)
      else this.#folders.push(real)
    }
  }

  /**
   * Whether `path` (which exists) resolves, symlinks followed, inside the registry's
   * folder or a shared one; a problem at `entry` when it does not. Checked before
   * any file is read, so `/proc/self/environ` or `../other-pool/env` never is.
   */
  inside(entry: Entry, label: string, written: string, path: string): boolean {
    let real: string
    try {
      real = realpathSync.native(path)
    } catch {
      return true // gone between the checks: reported as not found where it is read
    }
    if (this.#folders.some((dir) => real === dir || real.startsWith(dir.endsWith(sep) ? dir : `${dir}${sep}`))) return true
    const via = real === path ? '' : ` (it resolves to ${real})`
    const where = this.#folders.length > 1 ? "the registry's folder and its shared folders" : "the registry's folder"
    this.problem(this.at(entry), `${label}: ${written} is outside ${where}${via}; list its folder under 'shared:' to allow it`)
    return false
  }

  pool({ key: name, value }: Entry): void {
    const label = `pool '${name}'`
    const fields = this.entries(value)
    if (!fields) return
    const memory = fields.get('memory')
    let memoryBytes: number | null = null
    if (memory && this.value(memory) !== null) {
      const raw = this.value(memory)
      memoryBytes = typeof raw === 'string' ? parseSize(raw) : null
      if (memoryBytes === null) this.problem(this.at(memory), `${label} memory: ${this.show(memory)} is not a size (use 256mb or 1gb)`)
      else if (memoryBytes < MIN_MEMORY_BYTES) {
        this.problem(this.at(memory), `${label} memory: ${this.show(memory)} is below the minimum of ${MIN_MEMORY_BYTES / 1024 ** 2}mb`)
        memoryBytes = null
      }
    }
    const maxOutputBytes = this.maxOutput(fields.get('maxOutput'), label)
    const redis = this.text(fields.get('redis'))
    this.pools.set(name, {
      name,
      runtime: this.oneOf<Runtime>(fields.get('runtime'), ['node', 'python'], POOL_DEFAULTS.runtime),
      concurrency: this.integer(fields.get('concurrency'), 1, POOL_DEFAULTS.concurrency),
      processes: this.integer(fields.get('processes'), 1, POOL_DEFAULTS.processes),
      timeoutMs: this.duration(fields.get('timeout'), `${label} timeout`, POOL_DEFAULTS.timeoutMs),
      retries: this.integer(fields.get('retries'), 0, POOL_DEFAULTS.retries),
      maxQueued: this.integer(fields.get('maxQueued'), 1, POOL_DEFAULTS.maxQueued),
      memoryBytes,
      cpuCores: this.cpu(fields.get('cpu'), label),
      maxOutputBytes,
      env: this.file(fields.get('env'), `${label} env`),
      secrets: this.secrets(fields.get('secrets'), label),
      redis,
      user: this.user(fields.get('user')),
      tracing: this.tracing(fields.get('tracing'), name),
    })
  }

  /** `user:` as written; a YAML number (a uid) becomes its digits. The schema checked its form. */
  user(entry: Entry | undefined): string | null {
    const value = entry ? this.value(entry) : undefined
    if (typeof value === 'number' && Number.isInteger(value)) return String(value)
    return this.text(entry)
  }

  /** `cpu:` in cores, or null (none set, or refused: the schema refused what is not a number). */
  cpu(entry: Entry | undefined, label: string): number | null {
    const value = entry ? this.value(entry) : null
    if (!entry || typeof value !== 'number') return null
    if (Number.isFinite(value) && value >= CPU_CORES.min && value <= CPU_CORES.max) return value
    this.problem(
      this.at(entry),
      `${label} cpu: ${this.show(entry)} is outside ${CPU_CORES.min} to ${CPU_CORES.max} cores (1.5 is one and a half)`,
    )
    return null
  }

  maxOutput(entry: Entry | undefined, label: string): number {
    if (!entry) return POOL_DEFAULTS.maxOutputBytes
    const raw = this.value(entry)
    const bytes = typeof raw === 'string' ? parseSize(raw) : null
    const size = (n: number) => (n >= 1024 ** 2 ? `${n / 1024 ** 2}mb` : `${n / 1024}kb`)
    if (bytes === null) this.problem(this.at(entry), `${label} maxOutput: ${this.show(entry)} is not a size (use 256kb, 1mb or 8mb)`)
    else if (bytes < OUTPUT_BYTES.min || bytes > OUTPUT_BYTES.max) {
      this.problem(
        this.at(entry),
        `${label} maxOutput: ${this.show(entry)} is outside ${size(OUTPUT_BYTES.min)} to ${size(OUTPUT_BYTES.max)} ` +
          '(a larger result belongs in object storage, with its link in the output)',
      )
    } else return bytes
    return POOL_DEFAULTS.maxOutputBytes
  }

  secrets(entry: Entry | undefined, label: string): string[] {
    if (!entry) return []
    const value = this.value(entry)
    if (Array.isArray(value) && value.every((v) => typeof v === 'string' && ENV_NAME.test(v))) return value as string[]
    this.problem(this.at(entry), `${label} secrets: must be a list of env variable names (like STRIPE_WEBHOOK), got ${this.show(entry)}`)
    return []
  }

  tracing(entry: Entry | undefined, pool: string): TracingConfig {
    const defaults: TracingConfig = { project: pool, sampleRate: 1, capture: 'full', redact: [] }
    const fields = entry ? this.entries(entry.value) : null
    if (!fields) return defaults
    const rate = fields.get('sampleRate')
    const rateValue = rate ? this.value(rate) : undefined
    const redactEntry = fields.get('redact')
    const redactValue = redactEntry ? this.value(redactEntry) : undefined
    return {
      project: this.text(fields.get('project')) ?? pool,
      sampleRate: typeof rateValue === 'number' && rateValue >= 0 && rateValue <= 1 ? rateValue : 1,
      capture: this.oneOf<Capture>(fields.get('capture'), ['full', 'redacted', 'none'], 'full'),
      redact: Array.isArray(redactValue) && redactValue.every((v) => typeof v === 'string' && v !== '') ? (redactValue as string[]) : [],
    }
  }

  workflow({ key: name, value }: Entry): void {
    const label = `workflow '${name}'`
    const fields = this.entries(value)
    if (!fields) return
    const poolEntry = fields.get('pool')
    const poolName = this.text(poolEntry)
    const pool = poolName === null ? undefined : this.pools.get(poolName)
    if (poolName !== null && poolEntry && !pool) {
      const hint = suggest(poolName, this.pools.keys(), 1)[0]
      this.problem(this.at(poolEntry), `${label}: unknown pool '${poolName}'${hint ? ` (did you mean '${hint}'?)` : ''}`)
    }
    const graph = this.graph(fields.get('graph'), label)
    const prompt = this.file(fields.get('prompt'), `${label} prompt`)
    const input = this.schema(fields.get('input'), `${label} input`)
    const output = this.schema(fields.get('output'), `${label} output`)
    const description = this.text(fields.get('description'))
    const timeoutMs = this.duration(fields.get('timeout'), `${label} timeout`, pool?.timeoutMs ?? POOL_DEFAULTS.timeoutMs)
    const retries = this.integer(fields.get('retries'), 0, pool?.retries ?? POOL_DEFAULTS.retries)
    if (!pool || !graph || input === undefined || description === null) return
    const code = this.#codeBySchema.get(canonicalJson(input))
    if (code) this.validatorIds.set(name, sha256(code).slice('sha256:'.length, 'sha256:'.length + 32))
    if (code) this.codes.set(this.validatorIds.get(name) ?? '', code)
    const { isScalar } = this.#guards
    // As schema() tells a file's path from an inline schema.
    const named = [fields.get('input'), fields.get('output')].flatMap((entry) =>
      entry && isScalar(entry.value) && typeof entry.value.value === 'string' ? [resolve(this.root, entry.value.value)] : [],
    )
    this.schemaFiles.set(name, named)
    this.workflows.set(name, { name, pool: pool.name, graph, prompt, input, output: output ?? null, description, timeoutMs, retries })
  }

  graph(entry: Entry | undefined, label: string): Workflow['graph'] | null {
    const ref = this.text(entry)
    if (ref === null || !entry) return null
    const hash = ref.lastIndexOf('#')
    const modulePath = hash === -1 ? ref : ref.slice(0, hash)
    const exportName = hash === -1 ? 'graph' : ref.slice(hash + 1)
    // The schema's pattern refused a bad export name; skip resolving it.
    if (!/^[A-Za-z_$][\w$]*$/.test(exportName)) return null
    const module = resolve(this.root, modulePath)
    if (!existsSync(module)) {
      this.problem(this.at(entry), `${label} graph: file not found: ${modulePath}`)
      return null
    }
    return this.inside(entry, `${label} graph`, modulePath, module) ? { ref, module, export: exportName } : null
  }

  /** A schema file path or an inline schema; checked (and, for inputs, compiled) with Ajv. */
  schema(entry: Entry | undefined, label: string): JsonSchema | undefined {
    if (!entry) return undefined
    const { isScalar } = this.#guards
    const raw = this.value(entry)
    let schema: JsonSchema
    let where: { source: SourceFile; node: YamlNode | null }
    if (typeof raw === 'string' && isScalar(entry.value)) {
      const loaded = this.schemaFile(entry, raw, label)
      if (!loaded) return undefined
      ;({ schema, where } = loaded)
    } else if (typeof raw === 'boolean' || (typeof raw === 'object' && raw !== null && !Array.isArray(raw))) {
      schema = raw as JsonSchema
      where = { source: this.source, node: entry.value }
    } else return undefined
    const key = canonicalJson(schema)
    const withCode = label.endsWith(' input')
    if (withCode && this.#codeBySchema.has(key)) return this.#codeBySchema.get(key) === null ? undefined : schema
    const { issues, code } = this.#schemas.compile(schema, withCode)
    if (withCode) this.#codeBySchema.set(key, code ?? null)
    for (const issue of issues) {
      const node = issue.key ? this.findKey(where.node, issue.key) : this.pointTo(where.node, issue.pointer)
      const at = issue.pointer ? `${issue.pointer} ` : ''
      this.problem(node ?? where.node, `${label} schema is invalid: ${at}${issue.message}`, where.source)
    }
    return issues.length ? undefined : schema
  }

  schemaFile(
    entry: Entry,
    text: string,
    label: string,
  ): { schema: JsonSchema; where: { source: SourceFile; node: YamlNode | null } } | null {
    const path = resolve(this.root, text)
    if (existsSync(path) && !this.inside(entry, label, text, path)) return null
    let bytes: Buffer
    try {
      bytes = readFileSync(path)
    } catch {
      this.problem(this.at(entry), `${label}: file not found: ${text}`)
      return null
    }
    const parsed = parseSource(shown(path), bytes.toString('utf8'), extname(path).toLowerCase() === '.json')
    const seen = this.#schemaFiles.get(path)
    if (seen === undefined) {
      this.problems.push(...parsed.problems, ...(parsed.problems.length ? [] : findDuplicateKeys(parsed.source)))
    }
    if (parsed.problems.length) {
      this.#schemaFiles.set(path, null)
      return null
    }
    const schema = parsed.source.doc.toJS() as JsonSchema
    this.#schemaFiles.set(path, { schema, stamp: stamp(path, bytes) })
    return { schema, where: { source: parsed.source, node: parsed.source.doc.contents as YamlNode | null } }
  }

  /** The deepest node a JSON pointer reaches inside `node`. */
  pointTo(node: YamlNode | null, pointer: string): YamlNode | null {
    const { isMap, isSeq, isScalar } = this.#guards
    let current = node
    for (const token of pointer
      .split('/')
      .slice(1)
      .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'))) {
      let next: YamlNode | null | undefined
      if (isMap(current)) {
        next = (current.items as Pair<YamlNode | null, YamlNode | null>[]).find(
          (p) => isScalar(p.key) && String(p.key.value) === token,
        )?.value
      } else if (isSeq(current)) next = current.items[Number(token)] as YamlNode | undefined
      if (!next) break
      current = next
    }
    return current
  }

  /** The first key named `key` anywhere inside `node`. */
  findKey(node: YamlNode | null, key: string): YamlNode | null {
    const { isMap, isSeq, isScalar } = this.#guards
    if (isMap(node)) {
      for (const pair of node.items as Pair<YamlNode | null, YamlNode | null>[]) {
        if (isScalar(pair.key) && String(pair.key.value) === key) return pair.key
        const found = this.findKey(pair.value, key)
        if (found) return found
      }
    } else if (isSeq(node)) {
      for (const item of node.items) {
        const found = this.findKey(item as YamlNode, key)
        if (found) return found
      }
    }
    return null
  }
}
