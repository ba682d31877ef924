// The embedded trace store: per project, append-only JSONL segments under one folder,
// `<dir>/<project>/<seq>.jsonl`, and an in-memory index of where each trace's lines
// are. One export costs one write per project (not one file per trace); a trace is
// a few positioned reads; a project past its bound drops its oldest segment; a
// restart loses nothing (the index is rebuilt by scanning the segments).
// Whose a trace's runs are (the callers and runs the gateway's own spans name,
// trace-members.ts; with none, the runs any span claims) is kept in memory beside the
// index, per trace and project, as spans are written: who may join a trace (traceCallers)
// or read it (traceAccess) is answered without reading a line, however many spans other
// senders piled under its id.
// Bounded in what a sender controls: spans of a project the registry does not name are
// filed under one project, `_other` (callers' own spans, requests for unknown workflows),
// so no sender can open a folder per name; and at most `maxOpenFiles` segments are held
// open for appending (the least recently written is closed first), so no sender can run
// the process out of file descriptors.
// Never steered by what others plant in its folder (`.switchyard/traces`, which whoever may
// write `.switchyard/` may write too; SECURITY.md row 6): the folder itself is refused when it
// is a link (it is the caller's path: the store does not remove it), a project sub-folder that
// is a link (or not a folder) is removed, never followed, and made again; segments are opened
// with O_NOFOLLOW (a planted link or FIFO in a segment's place is removed, not written
// through) and read only when regular files; retention unlinks only a regular file, in
// folders that are still the store's own (lstat'd, not links).
import { constants, type Stats } from 'node:fs'
import { lstat, mkdir, open, readdir, unlink, type FileHandle } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { SwitchyardError } from '../../control/index.js'
import { summarizeRun, summarySpan } from './run-summary.js'
import { TRACE_ID, type StoredSpan } from './stored-span.js'
import { ATTR } from '../../control/index.js'
import { isAnchorSpan, spanClaim, traceMembers } from './trace-members.js'
import type { TraceAccess, TraceQuery, TracedRun, TracedRunFilter, RunSummary, TraceStore } from './trace-store.js'

/** Where spans of a project the store was not told about are filed (see `projects`). */
export const OTHER_PROJECT = '_other'

export interface FileTraceStoreOptions {
  /**
   * The projects spans may be filed under (the registry's); spans naming any other are
   * filed under OTHER_PROJECT. @default any name is a project of its own
   */
  readonly projects?: Iterable<string>
  /** Segments held open for appending at once. @default 32 */
  readonly maxOpenFiles?: number
  /** Traces kept per project; the oldest go first. @default 2000 */
  readonly maxTracesPerProject?: number
  /** Bytes kept per project; the oldest traces go first. @default 67108864 (64 MiB) */
  readonly maxBytesPerProject?: number
}

const DEFAULT_MAX_TRACES = 2000
const DEFAULT_MAX_BYTES = 64 * 1024 * 1024
const DEFAULT_MAX_OPEN_FILES = 32
// Retention drops whole segments: an eighth of the bound each, so a project keeps
// between 7/8 of its bound and all of it.
const SEGMENTS_PER_BOUND = 8
const MAX_SEGMENT_BYTES = 4 * 1024 * 1024
// O_NOFOLLOW: a link in a segment's place is refused (ELOOP), never followed. O_NONBLOCK:
// a FIFO there is refused (ENXIO) rather than blocking the open; no effect on a regular file.
const { O_APPEND, O_CREAT, O_NOFOLLOW, O_NONBLOCK, O_RDONLY, O_WRONLY } = constants
const APPEND = O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK
const READ = O_RDONLY | O_NOFOLLOW | O_NONBLOCK

/** What the spans of one trace filed under one project say about whose it is. */
interface Owners {
  /** Some span is an anchor (trace-members.ts): the gateway's, or a trusted sender's. */
  anchored: boolean
  /** The callers anchor spans name. */
  readonly callers: Set<string>
  /** The runs anchor spans describe, by `workflow\npool`. */
  readonly runs: Map<string, TracedRun>
  /** The runs any span describes, whoever sent it (what a trace with no anchor is read by). */
  readonly claims: Map<string, TracedRun>
}

/** Where some of a trace's lines are: a byte range of one segment. */
interface Extent {
  readonly folder: string
  readonly segment: Segment
  readonly start: number
  readonly length: number
}

interface Segment {
  readonly seq: number
  readonly path: string
  bytes: number
  readonly traces: Set<string>
  /** Ends in a line cut short (a crash mid-append): never appended to again. */
  sealed?: boolean
}

interface Project {
  /** Oldest first; the last one is written to. */
  readonly segments: Segment[]
  bytes: number
  /** Distinct traces with lines in this project. */
  readonly traces: Set<string>
  handle: FileHandle | undefined
}

/**
 * Spans on disk, per project, with a retention bound per project.
 *
 * @example
 * const store = await FileTraceStore.open('.switchyard/traces')
 * await store.add(spans)
 * const trace = await store.getTrace(traceId)
 */
export class FileTraceStore implements TraceStore {
  private readonly projects = new Map<string, Project>()
  private readonly extents = new Map<string, Extent[]>()
  private readonly folders = new Map<string, string>()
  /** Per trace, per project folder: what its spans say about whose it is (only those that say anything; lines stored). */
  private readonly owners = new Map<string, Map<string, Owners>>()
  /** The spans that describe each trace's run (see run-summary.ts); built on first listRuns. */
  private runSpans: Map<string, StoredSpan[]> | undefined
  /** Writes and deletions run one at a time, so the index always matches the folder. */
  private queue: Promise<unknown> = Promise.resolve()
  private readonly maxTraces: number
  private readonly maxBytes: number
  private readonly segmentTraces: number
  private readonly segmentBytes: number
  private known: ReadonlySet<string> | null
  private readonly maxOpenFiles: number
  /** Projects holding an open append handle, least recently written first. */
  private readonly appending = new Map<string, Project>()

  private constructor(
    readonly dir: string,
    options: FileTraceStoreOptions,
  ) {
    this.known = options.projects === undefined ? null : knownProjects(options.projects)
    this.maxOpenFiles = positive(options.maxOpenFiles, DEFAULT_MAX_OPEN_FILES, 'maxOpenFiles')
    this.maxTraces = positive(options.maxTracesPerProject, DEFAULT_MAX_TRACES, 'maxTracesPerProject')
    this.maxBytes = positive(options.maxBytesPerProject, DEFAULT_MAX_BYTES, 'maxBytesPerProject')
    this.segmentTraces = Math.max(1, Math.floor(this.maxTraces / SEGMENTS_PER_BOUND))
    this.segmentBytes = Math.max(1, Math.min(MAX_SEGMENT_BYTES, Math.floor(this.maxBytes / SEGMENTS_PER_BOUND)))
  }

  /** Open (creating it if needed) the store in `dir`, indexing what an earlier process left there. */
  static async open(dir: string, options: FileTraceStoreOptions = {}): Promise<FileTraceStore> {
    const store = new FileTraceStore(dir, options)
    // Its parents are followed (`.switchyard` may be a link the operator made); the folder itself never.
    if ((await lstatOf(dir)) === undefined) await mkdir(dir, { recursive: true })
    await store.ownDir()
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) await store.scanProject(entry.name)
    }
    return store
  }

  add(spans: readonly StoredSpan[]): Promise<void> {
    return this.serially(() => this.write(spans))
  }

  /** Spans exported from now on are filed under these projects (a reloaded registry's); others under OTHER_PROJECT. */
  setProjects(projects: Iterable<string>): void {
    this.known = knownProjects(projects)
  }

  /** The project spans naming `project` are filed under: itself when known, else OTHER_PROJECT. */
  fileUnder(project: string): string {
    return this.known === null || this.known.has(project) ? project : OTHER_PROJECT
  }

  async getTrace(traceId: string, query: TraceQuery = {}): Promise<StoredSpan[]> {
    const id = traceId.toLowerCase()
    if (!TRACE_ID.test(id)) throw new SwitchyardError('BAD_REQUEST', `'${traceId}' is not a trace id (32 hex digits)`)
    await this.queue
    let extents = this.extents.get(id) ?? []
    if (query.project !== undefined) {
      const folder = this.folderOf(query.project)
      extents = extents.filter((extent) => extent.folder === folder)
    }
    const read = await this.readExtents(extents)
    // Membership before the span id: a span another sender posted under a member's id replaces nothing.
    const spans = new Map<string, StoredSpan>()
    for (const span of query.project === undefined ? traceMembers(read) : read) spans.set(span.spanId, span)
    return [...spans.values()].sort((a, b) => a.start - b.start)
  }

  // From the in-memory index alone: asking costs no read of the trace's spans, however many.
  async traceCallers(traceId: string): Promise<ReadonlySet<string> | null> {
    const owners = [...(this.owners.get(traceId.toLowerCase())?.values() ?? [])].filter((some) => some.anchored)
    if (owners.length === 0) return null
    const callers = new Set<string>()
    for (const { callers: some } of owners) for (const caller of some) callers.add(caller)
    return callers
  }

  async traceAccess(traceId: string): Promise<TraceAccess | null> {
    const id = traceId.toLowerCase()
    if (!this.extents.has(id)) return null
    const owners = [...(this.owners.get(id)?.values() ?? [])]
    const anchored = owners.some((some) => some.anchored)
    const runs = new Map<string, TracedRun>()
    for (const some of owners) for (const [key, run] of anchored ? some.runs : some.claims) runs.set(key, run)
    return { anchored, runs: [...runs.values()] }
  }

  async listRuns(filter: TracedRunFilter = {}): Promise<RunSummary[]> {
    const index = await this.runIndex()
    const limit = filter.limit ?? 50
    const runs: RunSummary[] = []
    for (const spans of index.values()) {
      const run = summarizeRun(traceMembers(spans))
      if (run === undefined) continue
      if (filter.where !== undefined && !filter.where(run)) continue
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
    return [...this.projects].map(([folder, p]) => ({ project: decodeProject(folder), traces: p.traces.size, bytes: p.bytes }))
  }

  async close(): Promise<void> {
    await this.queue
    for (const project of this.appending.values()) await this.release(project)
  }

  /** Open file descriptors this store holds for appending (at most maxOpenFiles). */
  get openFiles(): number {
    return this.appending.size
  }

  private serially<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task)
    this.queue = run.catch(() => undefined)
    return run
  }

  private async write(spans: readonly StoredSpan[]): Promise<void> {
    // Per project, per trace: a trace's lines of one export stay contiguous (one extent).
    const batches = new Map<string, Map<string, string[]>>()
    const anchors = new Map<string, StoredSpan[]>()
    for (const given of spans) {
      const project = this.fileUnder(given.project)
      const span = project === given.project ? given : { ...given, project }
      const folder = this.folderOf(project)
      let traces = batches.get(folder)
      if (traces === undefined) {
        traces = new Map()
        batches.set(folder, traces)
      }
      const lines = traces.get(span.traceId) ?? []
      lines.push(JSON.stringify(span))
      traces.set(span.traceId, lines)
      if (isAnchorSpan(span) || spanClaim(span) !== undefined) {
        const some = anchors.get(folder)
        if (some) some.push(span)
        else anchors.set(folder, [span])
      }
      const summary = this.runSpans ? summarySpan(span) : undefined
      if (this.runSpans && summary) this.runSpans.set(span.traceId, [...(this.runSpans.get(span.traceId) ?? []), summary])
    }
    // One project at a time: the open-handle bound holds within one export too.
    for (const [folder, traces] of batches) {
      await this.writeProject(folder, traces)
      // A trace's lines may have left the project already (retention within the same export): nothing to index then.
      const kept = new Map<string, boolean>()
      const stored = (traceId: string) => this.extents.get(traceId)?.some((extent) => extent.folder === folder) ?? false
      for (const span of anchors.get(folder) ?? []) {
        let here = kept.get(span.traceId)
        if (here === undefined) kept.set(span.traceId, (here = stored(span.traceId)))
        if (here) this.addOwner(span, folder)
      }
    }
  }

  /** Index what a span, stored in `folder`, says about whose its trace is (an anchor, or a run's claim). */
  private addOwner(span: StoredSpan, folder: string): void {
    let perFolder = this.owners.get(span.traceId)
    if (perFolder === undefined) {
      perFolder = new Map()
      this.owners.set(span.traceId, perFolder)
    }
    let owners = perFolder.get(folder)
    if (owners === undefined) {
      owners = { anchored: false, callers: new Set(), runs: new Map(), claims: new Map() }
      perFolder.set(folder, owners)
    }
    const claim = spanClaim(span)
    const key = claim && `${claim.workflow}\n${claim.pool ?? ''}`
    if (claim && key !== undefined) owners.claims.set(key, claim)
    if (!isAnchorSpan(span)) return
    owners.anchored = true
    const caller = span.attributes[ATTR.caller]
    if (typeof caller === 'string') owners.callers.add(caller)
    if (claim && key !== undefined) owners.runs.set(key, claim)
  }

  /** encodeProject, remembered: a store sees few projects and files every span under one. */
  private folderOf(project: string): string {
    let folder = this.folders.get(project)
    if (folder === undefined) {
      folder = encodeProject(project)
      if (this.folders.size < 1024) this.folders.set(project, folder)
    }
    return folder
  }

  private async writeProject(folder: string, traces: Map<string, string[]>): Promise<void> {
    const project = await this.project(folder)
    let segment = project.segments.at(-1)
    if (segment === undefined || segment.sealed || segment.bytes >= this.segmentBytes || segment.traces.size >= this.segmentTraces) {
      segment = await this.roll(folder, project)
    }
    // Opened lazily: a store opened only to read (after a restart, say) holds no file open.
    const handle = await this.handleOf(folder, project, segment)
    const chunks: Buffer[] = []
    let offset = segment.bytes
    for (const [traceId, lines] of traces) {
      const chunk = Buffer.from(`${lines.join('\n')}\n`)
      chunks.push(chunk)
      this.addExtent(traceId, { folder, segment, start: offset, length: chunk.length }, project)
      offset += chunk.length
    }
    const data = Buffer.concat(chunks)
    await handle.write(data)
    segment.bytes += data.length
    project.bytes += data.length
    await this.enforceBound(project)
  }

  private async project(folder: string): Promise<Project> {
    let project = this.projects.get(folder)
    if (project === undefined) {
      await this.ownFolder(folder)
      project = { segments: [], bytes: 0, traces: new Set(), handle: undefined }
      this.projects.set(folder, project)
    }
    return project
  }

  /** Start a new segment (the first, or the next when the current is full); it opens on first write. */
  private async roll(folder: string, project: Project): Promise<Segment> {
    await this.release(project)
    const seq = (project.segments.at(-1)?.seq ?? 0) + 1
    const segment: Segment = { seq, path: join(this.dir, folder, `${String(seq).padStart(8, '0')}.jsonl`), bytes: 0, traces: new Set() }
    project.segments.push(segment)
    return segment
  }

  /** The project's append handle on its newest segment, closing the least recently written one past the bound. */
  private async handleOf(folder: string, project: Project, segment: Segment): Promise<FileHandle> {
    if (project.handle !== undefined) {
      // Most recently written last.
      this.appending.delete(folder)
      this.appending.set(folder, project)
      return project.handle
    }
    while (this.appending.size >= this.maxOpenFiles) {
      const [, oldest] = this.appending.entries().next().value as [string, Project]
      await this.release(oldest)
    }
    const handle = await this.openSegment(folder, segment.path)
    project.handle = handle
    this.appending.set(folder, project)
    return handle
  }

  private async release(project: Project): Promise<void> {
    const handle = project.handle
    if (handle === undefined) return
    project.handle = undefined
    for (const [folder, p] of this.appending) if (p === project) this.appending.delete(folder)
    await handle.close().catch(() => undefined)
  }

  private addExtent(traceId: string, extent: Extent, project: Project): void {
    const list = this.extents.get(traceId)
    if (list) list.push(extent)
    else this.extents.set(traceId, [extent])
    extent.segment.traces.add(traceId)
    project.traces.add(traceId)
  }

  /** Drop the project's oldest segments until it is within its bounds (always keeping the newest). */
  private async enforceBound(project: Project): Promise<void> {
    while (project.segments.length > 1 && (project.traces.size > this.maxTraces || project.bytes > this.maxBytes)) {
      const oldest = project.segments.shift() as Segment
      project.bytes -= oldest.bytes
      // A trace with lines in the dropped segment leaves this project as a whole (no half
      // trees), and only this project: one sender's full project never evicts another's traces.
      for (const traceId of oldest.traces) this.forgetTrace(traceId, project)
      await this.removeSegment(oldest.path)
    }
  }

  /** The store's folder, refused when it is a link or not a folder: it is the caller's path, not the store's to remove. */
  private async ownDir(): Promise<void> {
    if ((await lstatOf(this.dir))?.isDirectory()) return
    throw new Error(
      `trace store folder ${this.dir} is a symbolic link or not a folder: the store never follows one there ` +
        `(whoever may write its parent could point the store's appends and deletions at other files); ` +
        `remove it (the store makes a folder of its own) or give the store the real folder's path`,
    )
  }

  /** Makes `<dir>/<folder>` a folder of the store's own: a link (or anything else) in its place is removed, never followed. */
  private async ownFolder(folder: string): Promise<void> {
    await this.ownDir()
    const path = join(this.dir, folder)
    const stat = await lstatOf(path)
    if (stat?.isDirectory()) return
    // The link, not its target: the name is the store's, whoever planted it.
    if (stat) await unlink(path)
    await mkdir(path)
    // Replaced again meanwhile: nothing is written through it.
    if (!(await lstatOf(path))?.isDirectory()) throw new Error(`trace store folder ${path} is not a folder`)
  }

  /** A segment's append handle, never through a link: a link or FIFO planted in its place is removed and the segment made afresh. */
  private async openSegment(folder: string, path: string): Promise<FileHandle> {
    await this.ownFolder(folder)
    for (let attempt = 0; ; attempt++) {
      const handle = await open(path, APPEND).catch((error: NodeJS.ErrnoException) => {
        if (attempt > 0 || (error.code !== 'ELOOP' && error.code !== 'ENXIO')) throw error
        return undefined
      })
      if (handle && (await handle.stat()).isFile()) return handle
      await handle?.close()
      if (attempt > 0) throw new Error(`trace segment ${path} is not a regular file`)
      await unlink(path)
    }
  }

  /** Retention's unlink: only a regular file, in the store's folder and a project folder that are still real folders (not links). */
  private async removeSegment(path: string): Promise<void> {
    if (!(await lstatOf(this.dir))?.isDirectory() || !(await lstatOf(dirname(path)))?.isDirectory()) return
    if ((await lstatOf(path))?.isFile()) await unlink(path).catch(() => undefined)
  }

  /** Forget a trace's lines in `project`; its lines in other projects stay. */
  private forgetTrace(traceId: string, project: Project): void {
    const kept: Extent[] = []
    let folder: string | undefined
    for (const extent of this.extents.get(traceId) ?? []) {
      if (this.projects.get(extent.folder) !== project) {
        kept.push(extent)
        continue
      }
      folder = extent.folder
      extent.segment.traces.delete(traceId)
    }
    project.traces.delete(traceId)
    const owners = this.owners.get(traceId)
    if (owners !== undefined && folder !== undefined) {
      owners.delete(folder)
      if (owners.size === 0) this.owners.delete(traceId)
    }
    if (kept.length === 0) {
      this.extents.delete(traceId)
      this.runSpans?.delete(traceId)
      return
    }
    this.extents.set(traceId, kept)
    const summaries = this.runSpans?.get(traceId)
    if (summaries && folder !== undefined) {
      const left = summaries.filter((span) => this.folderOf(span.project) !== folder)
      if (left.length) this.runSpans?.set(traceId, left)
      else this.runSpans?.delete(traceId)
    }
  }

  /** Index one project folder's segments (at open). */
  private async scanProject(folder: string): Promise<void> {
    const names = (await readdir(join(this.dir, folder))).filter((name) => /^\d{8}\.jsonl$/.test(name)).sort()
    if (names.length === 0) return
    const project = await this.project(folder)
    for (const name of names) {
      const path = join(this.dir, folder, name)
      // The process writing this store may drop its oldest segment (retention)
      // while we list: a segment gone by now is simply not indexed; nor is a link or
      // anything else that is not a regular file (never read through).
      const text = await readSegment(path)
      if (text === undefined) continue
      const segment: Segment = { seq: Number(name.slice(0, 8)), path, bytes: text.length, traces: new Set() }
      project.segments.push(segment)
      project.bytes += segment.bytes
      if (text.length > 0 && text[text.length - 1] !== 10) segment.sealed = true
      let start = 0
      let run: { traceId: string; start: number } | undefined
      const anchors: StoredSpan[] = []
      // Consecutive lines of one trace form one extent, as they were written.
      const flush = (end: number) => {
        if (run) this.addExtent(run.traceId, { folder, segment, start: run.start, length: end - run.start }, project)
      }
      while (start < text.length) {
        const newline = text.indexOf(10, start)
        const end = newline === -1 ? text.length : newline + 1
        const traceId = lineTraceId(text, start, end)
        if (traceId !== undefined && traceId !== run?.traceId) {
          flush(start)
          run = { traceId, start }
        }
        const anchor = traceId === undefined ? undefined : indexedAt(text, start, end, traceId)
        if (anchor !== undefined) anchors.push(anchor)
        start = end
      }
      flush(text.length)
      for (const anchor of anchors) this.addOwner(anchor, folder)
    }
  }

  private async runIndex(): Promise<Map<string, StoredSpan[]>> {
    if (this.runSpans) return this.runSpans
    return this.serially(async () => {
      if (this.runSpans) return this.runSpans
      const index = new Map<string, StoredSpan[]>()
      for (const [traceId, extents] of this.extents) {
        const spans = (await this.readExtents(extents)).map(summarySpan).filter((span) => span !== undefined)
        if (spans.length) index.set(traceId, spans)
      }
      this.runSpans = index
      return index
    })
  }

  private async readExtents(extents: readonly Extent[]): Promise<StoredSpan[]> {
    const spans: StoredSpan[] = []
    for (const extent of extents) {
      let file: FileHandle | undefined
      try {
        file = await open(extent.segment.path, READ)
        const buffer = Buffer.alloc(extent.length)
        await file.read(buffer, 0, extent.length, extent.start)
        for (const line of buffer.toString('utf8').split('\n')) {
          if (line === '') continue
          try {
            spans.push(JSON.parse(line) as StoredSpan)
          } catch {
            // A line cut short by a crash mid-append: the rest of the trace still reads.
          }
        }
      } catch {
        // The segment was dropped by retention meanwhile: those lines are gone.
      } finally {
        await file?.close().catch(() => undefined)
      }
    }
    return spans
  }
}

/** lstat (a link is not followed), undefined when nothing is there. */
function lstatOf(path: string): Promise<Stats | undefined> {
  return lstat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined
    throw error
  })
}

/** A segment's bytes, if it is a regular file (never through a link); undefined when it is gone or anything else. */
async function readSegment(path: string): Promise<Buffer | undefined> {
  let file: FileHandle
  try {
    file = await open(path, READ)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ELOOP' || code === 'ENXIO') return undefined
    throw error
  }
  try {
    return (await file.stat()).isFile() ? await file.readFile() : undefined
  } finally {
    await file.close().catch(() => undefined)
  }
}

const PREFIX = Buffer.from('{"traceId":"')

/** The trace id of the line at `start`: read from its first bytes (spans are stored traceId first), else parsed. */
function lineTraceId(text: Buffer, start: number, end: number): string | undefined {
  // A line cut short (a crash mid-append) may be shorter than the prefix: Buffer.compare would throw.
  if (end - start >= PREFIX.length + 32 && text.compare(PREFIX, 0, PREFIX.length, start, start + PREFIX.length) === 0) {
    const id = text.toString('latin1', start + PREFIX.length, start + PREFIX.length + 32)
    if (TRACE_ID.test(id)) return id
  }
  try {
    const id = (JSON.parse(text.toString('utf8', start, end)) as { traceId?: unknown }).traceId
    return typeof id === 'string' && TRACE_ID.test(id) ? id : undefined
  } catch {
    return undefined
  }
}

// A span another sender posted carries its stamp, `"sender":{"id":` (a key: inside a JSON
// string its quotes would be escaped); an anchor never does. Such a line is parsed only
// when it may claim a run (it has a workflow attribute).
const SENDER = Buffer.from('"sender":{"id":')
const WORKFLOW_KEY = Buffer.from(JSON.stringify(ATTR.workflow) + ':')

/** The span on the line at `start` when it says whose its trace is (an anchor, or a run's claim), read at open. */
function indexedAt(text: Buffer, start: number, end: number, traceId: string): StoredSpan | undefined {
  // Within the line only (a view, not a copy): a search to the segment's end would make a scan quadratic.
  const line = text.subarray(start, end)
  if (line.includes(SENDER) && !line.includes(WORKFLOW_KEY)) return undefined
  try {
    const span = JSON.parse(line.toString('utf8')) as StoredSpan
    const valid =
      typeof span === 'object' &&
      span !== null &&
      typeof span.attributes === 'object' &&
      span.attributes !== null &&
      typeof span.resource === 'object' &&
      span.resource !== null &&
      typeof span.name === 'string'
    return valid && span.traceId === traceId && (isAnchorSpan(span) || spanClaim(span) !== undefined) ? span : undefined
  } catch {
    return undefined
  }
}

/** A project name as a safe folder name (no separators, never `.` or `..`). */
export function encodeProject(project: string): string {
  return encodeURIComponent(project || '_')
    .replace(/^\./, '%2E')
    .replace(/\*/g, '%2A')
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

function knownProjects(projects: Iterable<string>): ReadonlySet<string> {
  const known = new Set(projects)
  if (known.has(OTHER_PROJECT)) {
    throw new RangeError(`project '${OTHER_PROJECT}' is reserved for spans of no registry project: name the pool's project otherwise`)
  }
  return known
}
