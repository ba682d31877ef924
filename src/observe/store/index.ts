// The embedded trace store: spans filed per registry project on disk, bounded, and
// the run summaries the console and `switchyard runs` list.
export { FileTraceStore, OTHER_PROJECT } from './file-trace-store.js'
export { spanClaim } from './trace-members.js'
export type { TraceAccess, TracedRunFilter, RunSummary, TraceStore } from './trace-store.js'
export type { AttributeValue, Attributes, SpanKindName, SpanSender, SpanStatusName, StoredEvent, StoredSpan } from './stored-span.js'
