// The seam between the OTLP receiver / trace API and where spans are kept.
// Implementation: FileTraceStore (embedded mode, on disk, per project).
import type { StoredSpan } from './stored-span.js'

export type RunOutcome = 'succeeded' | 'failed'

/** One run as the trace store sees it (only runs whose trace was kept). */
export interface RunSummary {
  readonly traceId: string
  readonly runId: string | null
  readonly workflow: string
  readonly pool: string | null
  readonly project: string
  readonly status: RunOutcome
  readonly errorCode: string | null
  /** Epoch milliseconds. */
  readonly start: number
  readonly durationMs: number
  /** Model tokens of the run's model calls (GenAI usage attributes), summed. */
  readonly tokens: { readonly input: number; readonly output: number }
  /** Estimated model cost in US dollars, summed. */
  readonly costUsd: number
}

/** A run the gateway recorded in a trace: its workflow and pool. */
export interface TracedRun {
  readonly workflow: string
  readonly pool: string | undefined
}

/** Whose a stored trace is, as far as the store's index knows without reading it. */
export interface TraceAccess {
  /** The gateway (or a trusted sender) recorded a request in it: its runs are `runs`, maybe among others. */
  readonly anchored: boolean
  /** Anchored: the runs the gateway recorded (some of the trace's). Else: every run its spans claim. */
  readonly runs: readonly TracedRun[]
}

export interface TraceQuery {
  /** Only the spans filed under this project, members of the trace's runs or not. */
  readonly project?: string
}

export interface TracedRunFilter {
  readonly pool?: string
  readonly workflow?: string
  readonly status?: RunOutcome
  readonly project?: string
  /** @default 50 */
  readonly limit?: number
  /** Keep only the runs this accepts (a caller's scope), before the limit applies. */
  readonly where?: (run: RunSummary) => boolean
}

export interface TraceStore {
  /** Keep spans (from one OTLP export), each filed under fileUnder(span.project). */
  add(spans: readonly StoredSpan[]): Promise<void>
  /** The project spans naming `project` are filed under (the registry's projects are kept apart; others share one). */
  fileUnder(project: string): string
  /**
   * The spans of a trace, oldest first; [] when unknown. From every project, those that
   * belong to its runs (traceMembers: the gateway's, and those of the pools and callers
   * its spans name); with `project`, every span filed under that project, whoever sent it.
   */
  getTrace(traceId: string, query?: TraceQuery): Promise<StoredSpan[]>
  /**
   * The callers that started the runs of a trace (the gateway's spans' `switchyard.caller`);
   * null when no span of the gateway's is stored for it (a new trace, or nobody's run).
   */
  traceCallers(traceId: string): Promise<ReadonlySet<string> | null>
  /**
   * What a reader of a trace must be allowed, answered like traceCallers without reading
   * the trace; null for a trace with nothing stored.
   */
  traceAccess(traceId: string): Promise<TraceAccess | null>
  /** Recent runs, newest first. */
  listRuns(filter?: TracedRunFilter): Promise<RunSummary[]>
  close(): Promise<void>
}
