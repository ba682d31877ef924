// The control plane's tools for `switchyard check` and `switchyard codegen`:
// kept out of index.ts so processes that only route never load them.
export {
  lintGraphs,
  graphFiles,
  findMissingExports,
  type ImportOffence,
  type PythonFileLint,
  type PythonLint,
  type MissingExport,
} from './graph-lint.js'
export { schemaToType } from './json-schema-to-ts.js'
export { workflowTypes } from './workflow-types.js'
export { REGISTRY_KEYS } from '../registry/index.js'
export { resolvedRegistry, resolvedRegistryPath, writeResolvedRegistry, RESOLVED_FORMAT } from '../registry/index.js'
// What a supervisor (which holds the cache key) vouches for to the workers it starts.
export { verifiedCompiledSha256 } from '../registry/index.js'
