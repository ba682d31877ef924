// Writes the graph helpers' shared vectors, as the TypeScript helpers answer them:
//   spec/vectors/offline-model.json  requests and the offline model's answers
//   spec/vectors/prompt.json         prompt sources, variables, and what parsing and rendering give
// The Python helpers must give the same, byte for byte (python/tests/test_graph_vectors.py);
// test/graph/graph-vectors.test.ts keeps these files true to the TypeScript side.
// Usage: node --import tsx scripts/gen-graph-vectors.ts
import { writeFileSync } from 'node:fs'
import { offlineVectorRequests, promptVectorCases } from '../test/graph/graph-vector-cases.js'
import { offlineAnswer } from '../src/graph/offline-model.js'
import { promptVectors } from '../test/graph/prompt-vectors.js'

function write(name: string, comment: string, vectors: readonly unknown[]): void {
  const file = new URL(`../spec/vectors/${name}`, import.meta.url)
  writeFileSync(file, `${JSON.stringify({ $comment: comment, vectors }, null, 2)}\n`)
  console.log(`wrote ${vectors.length} vectors to ${file.pathname}`)
}

write(
  'offline-model.json',
  'The offline model, answer for answer: each request ({messages, schema?}) and the answer {text, object?, usage, responseModel} both runtimes give. Regenerate with `node --import tsx scripts/gen-graph-vectors.ts`.',
  offlineVectorRequests.map(({ name, request }) => ({ name, request, answer: offlineAnswer(request) })),
)
write(
  'prompt.json',
  'Prompt files, rule for rule: each source parsed as <inline> and rendered with vars gives {text, hash, params, rendered} or {error: {code, message}}. Regenerate with `node --import tsx scripts/gen-graph-vectors.ts`.',
  promptVectors(promptVectorCases),
)
