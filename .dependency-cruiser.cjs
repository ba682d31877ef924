// Arrows point toward src/control. CI fails when they do not (npm run deps).
const HEAVY = '(bullmq|ioredis|@langchain/[^/]+|ai|@ai-sdk/[^/]+|@opentelemetry/sdk-[^/]+|@opentelemetry/exporter-[^/]+)'

/**
 * A plane, or a concept folder inside one, is entered only through its index.ts: a file
 * may import the files of its own folder and of the folders above it in its plane;
 * anything else goes through an index. One rule per folder depth of the importer
 * (src/a/f.ts, src/a/b/f.ts, …), since a rule's groups cannot be repeated.
 */
function throughIndexRules(maxDepth) {
  const rules = []
  for (let depth = 1; depth <= maxDepth; depth++) {
    const groups = Array.from({ length: depth }, (_, i) => `$${i + 1}`)
    const ownAndAbove = groups.map((_, i) => `^src/${groups.slice(0, i + 1).join('/')}/[^/]+$`)
    rules.push({
      name: 'enter-folders-through-index',
      comment: 'Import another folder through its index.ts (a plane, or a concept folder inside one).',
      severity: 'error',
      from: { path: `^src/${'([^/]+)/'.repeat(depth)}[^/]+$` },
      // Generated code (src/observe/otlp/generated: protoc's file tree) is a leaf its own folder's code reads directly.
      to: { path: '^src/', pathNot: ['/index[.]ts$', '^src/[^/]+/[^/]+/generated/', ...ownAndAbove] },
    })
  }
  return rules
}

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'control-imports-no-plane',
      comment: 'src/control is pure data and functions: it imports no other src/ folder.',
      severity: 'error',
      from: { path: '^src/control/' },
      to: { path: '^src/(?!control/)' },
    },
    {
      name: 'client-imports-only-control',
      comment: 'src/client runs in browsers and edge runtimes: it may import src/control (types) and nothing else of ours.',
      severity: 'error',
      from: { path: '^src/client/' },
      to: { path: '^src/(?!control/|client/)' },
    },
    {
      name: 'light-planes-reach-nothing-heavy',
      comment: 'src/control and src/client never reach (even transitively) a queue client, an LLM library or an OTel SDK.',
      severity: 'error',
      from: { path: '^src/(control|client)/' },
      to: { path: `node_modules/${HEAVY}/`, reachable: true },
    },
    {
      name: 'light-planes-reach-no-graph',
      comment: 'src/control and src/client never import a graph module.',
      severity: 'error',
      from: { path: '^src/(control|client)/' },
      to: { path: '^examples/', reachable: true },
    },
    ...throughIndexRules(3),
    {
      name: 'generated-code-is-read-by-its-folder',
      comment: "A generated/ folder (protoc's output) is read only by the folder that holds it.",
      severity: 'error',
      from: { path: '^(src/.+)/[^/]+$', pathNot: '/generated/' },
      to: { path: '^src/.+/generated/', pathNot: '^$1/generated/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.d.ts'],
    },
  },
}
