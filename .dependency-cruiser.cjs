// Arrows point toward src/control. CI fails when they do not (npm run deps).
const HEAVY = '(bullmq|ioredis|@langchain/[^/]+|ai|@ai-sdk/[^/]+|@opentelemetry/sdk-[^/]+|@opentelemetry/exporter-[^/]+)'

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
