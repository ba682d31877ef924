// Reading traces back: the run tree, its terminal rendering, the HTTP routes of the
// trace API and the console, and the small client `switchyard trace` and `runs` use.
export { buildRunTree, type RunNode, type RunTree } from './run-tree.js'
export { renderRunTree, formatDuration, formatCost, type RenderOptions } from './render-run-tree.js'
export { observeRoutes, tracedRunFilterFromQuery, type ObserveExchange, type ObserveRoute } from './routes.js'
export { consoleRoutes, loadConsole } from './console-routes.js'
export { fetchTraceApi, traceApiOptions, DEFAULT_URL, type TraceApiOptions } from './trace-api-client.js'
