// The registry: the data file parsed once into a compiled form (cached beside it,
// keyed by content), loaded cheaply by every process that routes.
export { loadRegistry, rebuildRegistry, type LoadOptions } from './load-registry.js'
export { cacheRefusals, CACHE_KEY_FILE, type CacheRefusal } from './cache-trust.js'
export { verifiedCompiledSha256, type CacheTrust } from './registry-cache.js'
export { internalsOf } from './compiled-registry.js'
export { requireHere } from './node-builtins.js'
export { linearRegExp } from './linear-regexp.js'
export { parseDuration, parseSize, queueName, WORKFLOW_NAME, POOL_NAME, POOL_DEFAULTS, REGISTRY_KEYS } from './registry-rules.js'
// A class of a few lines: Ajv itself loads on its first compile.
export { SchemaCompiler } from './schema-compiler.js'
export { canonicalDigest, canonicalJson } from './canonical-json.js'
export { resolvedRegistry, resolvedRegistryPath, writeResolvedRegistry, RESOLVED_FORMAT } from './resolved-registry.js'
