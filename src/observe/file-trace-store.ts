// The embedded trace store: one JSONL file per trace per project under one folder,
// `<dir>/<project>/<traceId>.jsonl`. Appends are cheap, a trace is one read, the
// oldest traces of a project are dropped past its bound, and a restart loses
// nothing (the index is rebuilt from the folder).
import { mkdir, open, readdir, readFile, stat, unlink, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import { ATTR } from '../control/attributes.js'
import { SwitchyardError } from '../control/errors.js'
import { isGatewayRunSpan, isRunSpan, summarizeRun } from './run-summary.js'
import { TRACE_ID, type StoredSpan } from './stored-span.js'
import type { RunFilter, RunSummary, TraceStore } from './trace-store.js'

export interface FileTraceStoreOptions {
  /** Traces kept per project; the oldest go first. @default 2000 */
  readonly maxTracesPerProject?: number
  /** Bytes kept per project; the oldest traces go first. @default 67108864 (64 MiB) */
  readonly maxBytesPerProject?: number
}

const DEFAULT_MAX_TRACES = 2000
const DEFAULT_MAX_BYTES = 64 * 1024 * 1024
// Runs are short: a trace is written by a few batches within seconds, so a small cache covers it.
const OPEN_HANDLES = 256

/**
 * Spans on disk, per project, with a retention bound per project.
 *
 * @example
 * const store = await FileTraceStore.open('.switchyard/traces')
 * await store.add(spans)
 * const trace = await store.getTrace(traceId)
 */
export class FileTraceStore implements TraceStore {
  /** Per project folder: trace id → bytes on disk, oldest first (Map keeps insertion order). */
  private readonly projects = new Map<string, Map<string, number>>()
  private readonly traceFolders = new Map<string, Set<string>>()
  private readonly bytes = new Map<string, number>()
  /** The spans that describe each trace's run (see run-summary.ts); built on first listRuns. */
  private runSpans: Map<string, StoredSpan[]> | undefined
  /** Writes and deletions run one at a time, so the index always matches the folder. */
  private queue: Promise<unknown> = Promise.resolve()
  /** Open append handles of recently written traces: a batch costs one write per trace, not open+write+close. */
  private readonly handles = new Map<string, FileHandle>()
  private readonly maxTraces: number
  private readonly maxBytes: number

  private constructor(
    readonly dir: string,
    options: FileTraceStoreOptions,
  ) {
    this.maxTraces = positive(options.maxTracesPerProject, DEFAULT_MAX_TRACES, 'maxTracesPerProject')
    this.maxBytes = positive(options.maxBytesPerProject, DEFAULT_MAX_BYTES, 'maxBytesPerProject')
  }

  /** Open (creating it if needed) the store in `dir`, indexing what an earlier process left there. */
  static async open(dir: string, options: FileTraceStoreOptions = {}): Promise<FileTraceStore> {
    const store = new FileTraceStore(dir, options)
    await mkdir(dir, { recursive: true })
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue
      const folder = entry.name
      const files = await Promise.all(
        (await readdir(join(dir, folder)))
          .filter((name) => name.endsWith('.jsonl') && TRACE_ID.test(name.slice(0, -6)))
          .map(async (name) => ({ traceId: name.slice(0, -6), info: await stat(join(dir, folder, name)) })),
      )
      files.sort((a, b) => a.info.mtimeMs - b.info.mtimeMs)
      for (const { traceId, info } of files) store.record(folder, traceId, info.size)
    }
    return store
  }

  add(spans: readonly StoredSpan[]): Promise<void> {
    return this.serially(() => this.write(spans))
  }

  async getTrace(traceId: string): Promise<StoredSpan[]> {
    const id = traceId.toLowerCase()
    if (!TRACE_ID.test(id)) throw new SwitchyardError('BAD_REQUEST', `'${traceId}' is not a trace id (32 hex digits)`)
    await this.queue
    const spans = new Map<string, StoredSpan>()
    for (const folder of this.traceFolders.get(id) ?? []) {
      for (const span of await this.readTrace(folder, id)) spans.set(span.spanId, span)
    }
    return [...spans.values()].sort((a, b) => a.start - b.start)
  }

  async listRuns(filter: RunFilter = {}): Promise<RunSummary[]> {
    const index = await this.runIndex()
    const limit = filter.limit ?? 50
    const runs: RunSummary[] = []
    for (const spans of index.values()) {
      const run = summarizeRun(spans)
      if (run === undefined) continue
      if (filter.pool !== undefined && run.pool !== filter.pool) continue
      if (filter.workflow !== undefined && run.workflow !== filter.workflow) continue
      if (filter.status !== undefined && run.status !== filter.status) continue
      if (filter.project !== undefined && run.project !== filter.project) continue
      runs.push(run)
    }
    return runs.sort((a, b) => b.start - a.start).slice(0, limit)
  }

  /** Projects with stored traces: name, trace count, bytes on disk. */
  projectStats(): { project: string; traces: number; bytes: number }[] {
    return [...this.projects].map(([folder, traces]) => ({ project: decodeProject(folder), traces: traces.size, bytes: this.bytes.get(folder) ?? 0 }))
  }

  async close(): Promise<void> {
    await this.queue
    await Promise.all([...this.handles.values()].map((handle) => handle.close().catch(() => undefined)))
    this.handles.clear()
  }

  private serially<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task)
    this.queue = run.catch(() => undefined)
    return run
  }

  private async write(spans: readonly StoredSpan[]): Promise<void> {
    const files = new Map<string, { folder: string; traceId: string; lines: string[] }>()
    for (const span of spans) {
      const folder = encodeProject(span.project)
      const key = `${folder}/${span.traceId}`
      let file = files.get(key)
      if (file === undefined) {
        file = { folder, traceId: span.traceId, lines: [] }
        files.set(key, file)
      }
      file.lines.push(JSON.stringify(span))
      if (this.runSpans && (isRunSpan(span) || isGatewayRunSpan(span) || typeof span.attributes[ATTR.runId] === 'string')) {
        const list = this.runSpans.get(span.traceId) ?? []
        list.push(span)
        this.runSpans.set(span.traceId, list)
      }
    }
    const folders = new Set<string>()
    for (const { folder } of files.values()) {
      if (!this.projects.has(folder) && !folders.has(folder)) await mkdir(join(this.dir, folder), { recursive: true })
      folders.add(folder)
    }
    // Different files: written in parallel (the thread pool does the waiting).
    await Promise.all(
      [...files.values()].map(async ({ folder, traceId, lines }) => {
        const text = `${lines.join('\n')}\n`
        await (await this.handle(folder, traceId)).write(text)
        this.record(folder, traceId, (this.projects.get(folder)?.get(traceId) ?? 0) + Buffer.byteLength(text))
      }),
    )
    for (const folder of folders) await this.enforceBound(folder)
    await this.trimHandles()
  }

  private async handle(folder: string, traceId: string): Promise<FileHandle> {
    const path = this.path(folder, traceId)
    let handle = this.handles.get(path)
    if (handle === undefined) {
      handle = await open(path, 'a')
      this.handles.set(path, handle)
    } else {
      // Most recently used last, so trimming closes the least recently written.
      this.handles.delete(path)
      this.handles.set(path, handle)
    }
    return handle
  }

  private async trimHandles(): Promise<void> {
    const excess = this.handles.size - OPEN_HANDLES
    if (excess <= 0) return
    const stale = [...this.handles].slice(0, excess)
    for (const [path] of stale) this.handles.delete(path)
    await Promise.all(stale.map(([, handle]) => handle.close().catch(() => undefined)))
  }

  private async forget(path: string): Promise<void> {
    const handle = this.handles.get(path)
    if (handle === undefined) return
    this.handles.delete(path)
    await handle.close().catch(() => undefined)
  }

  private record(folder: string, traceId: string, size: number): void {
    let traces = this.projects.get(folder)
    if (traces === undefined) {
      traces = new Map()
      this.projects.set(folder, traces)
    }
    this.bytes.set(folder, (this.bytes.get(folder) ?? 0) - (traces.get(traceId) ?? 0) + size)
    traces.set(traceId, size)
    let folders = this.traceFolders.get(traceId)
    if (folders === undefined) {
      folders = new Set()
      this.traceFolders.set(traceId, folders)
    }
    folders.add(folder)
  }

  /** Drop the project's oldest traces until it is within its bounds (always keeping the newest). */
  private async enforceBound(folder: string): Promise<void> {
    const traces = this.projects.get(folder)
    if (traces === undefined) return
    while (traces.size > 1 && (traces.size > this.maxTraces || (this.bytes.get(folder) ?? 0) > this.maxBytes)) {
      const oldest = traces.keys().next().value as string
      await this.forget(this.path(folder, oldest))
      await unlink(this.path(folder, oldest)).catch(() => undefined)
      this.bytes.set(folder, (this.bytes.get(folder) ?? 0) - (traces.get(oldest) ?? 0))
      traces.delete(oldest)
      const folders = this.traceFolders.get(oldest)
      folders?.delete(folder)
      if (folders?.size === 0) {
        this.traceFolders.delete(oldest)
        this.runSpans?.delete(oldest)
      }
    }
  }

  private async runIndex(): Promise<Map<string, StoredSpan[]>> {
    if (this.runSpans) return this.runSpans
    return this.serially(async () => {
      if (this.runSpans) return this.runSpans
      const index = new Map<string, StoredSpan[]>()
      for (const [traceId, folders] of this.traceFolders) {
        for (const folder of folders) {
          const spans = (await this.readTrace(folder, traceId)).filter(
            (span) => isRunSpan(span) || isGatewayRunSpan(span) || typeof span.attributes[ATTR.runId] === 'string',
          )
          if (spans.length) index.set(traceId, [...(index.get(traceId) ?? []), ...spans])
        }
      }
      this.runSpans = index
      return index
    })
  }

  private async readTrace(folder: string, traceId: string): Promise<StoredSpan[]> {
    let text: string
    try {
      text = await readFile(this.path(folder, traceId), 'utf8')
    } catch {
      return []
    }
    const spans: StoredSpan[] = []
    for (const line of text.split('\n')) {
      if (line === '') continue
      try {
        spans.push(JSON.parse(line) as StoredSpan)
      } catch {
        // A line cut short by a crash mid-append: the rest of the trace still reads.
      }
    }
    return spans
  }

  private path(folder: string, traceId: string): string {
    return join(this.dir, folder, `${traceId}.jsonl`)
  }
}

/** A project name as a safe folder name (no separators, never `.` or `..`). */
export function encodeProject(project: string): string {
  return encodeURIComponent(project || '_').replace(/^\./, '%2E').replace(/\*/g, '%2A')
}

function decodeProject(folder: string): string {
  try {
    return decodeURIComponent(folder)
  } catch {
    return folder
  }
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`)
  return value
}
