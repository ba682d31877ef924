// The embedded trace store: spans filed per registry project on disk, bounded, and
// the run summaries the console and `switchyard runs` list.
export { FileTraceStore, encodeProject, type FileTraceStoreOptions } from './file-trace-store.js'
export type { TracedRunFilter, RunOutcome, RunSummary, TraceStore } from './trace-store.js'
export type { AttributeValue, Attributes, SpanKindName, SpanStatusName, StoredEvent, StoredSpan } from './stored-span.js'
export { summarizeRun } from './run-summary.js'
