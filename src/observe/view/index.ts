// Reading traces back: the run tree, its terminal rendering, the HTTP routes of the
// trace API and the console, and the small client `switchyard trace` and `runs` use.
export { buildRunTree, type RunNode, type RunTree } from './run-tree.js'
export { renderRunTree, formatDuration } from './render-run-tree.js'
export { observeRoutes, type ObserveAccess } from './routes.js'
export { consoleRoutes } from './console-routes.js'
export { fetchTraceApi, traceApiOptions, DEFAULT_URL, TraceApiError, type TraceApiOptions } from './trace-api-client.js'
export { traceGaps } from './trace-gaps.js'
