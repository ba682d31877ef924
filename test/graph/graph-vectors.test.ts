// spec/vectors/offline-model.json and prompt.json are what the TypeScript helpers
// answer: the Python helpers are held to the same files (python/tests/test_graph_vectors.py),
// so the two answer the same request with the same bytes.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'

import { offlineAnswer } from '../../src/graph/offline-model.js'
import type { GenerateRequest } from '../../src/graph/index.js'
import { offlineVectorRequests, promptVectorCases } from './graph-vector-cases.js'
import { promptVectors } from './prompt-vectors.js'

interface Vector {
  readonly name: string
  readonly request: Pick<GenerateRequest, 'messages' | 'schema'>
  readonly answer: unknown
}

const vectorsOf = (name: string): unknown[] =>
  (JSON.parse(readFileSync(new URL(`../../spec/vectors/${name}`, import.meta.url), 'utf8')) as { vectors: unknown[] }).vectors

void test('every offline-model vector is what the TypeScript offline model answers, byte for byte', () => {
  const vectors = vectorsOf('offline-model.json') as Vector[]
  assert.ok(vectors.length >= 15)
  for (const vector of vectors) {
    assert.equal(JSON.stringify(offlineAnswer(vector.request)), JSON.stringify(vector.answer), vector.name)
  }
})

void test('offline-model.json holds exactly the requests of graph-vector-cases.ts (regenerate it after a change)', () => {
  const vectors = vectorsOf('offline-model.json') as Vector[]
  assert.deepEqual(
    vectors.map((v) => ({ name: v.name, request: v.request })),
    JSON.parse(JSON.stringify(offlineVectorRequests)),
  )
})

void test('prompt.json is what the TypeScript prompt helpers make of each case', () => {
  assert.deepEqual(vectorsOf('prompt.json'), JSON.parse(JSON.stringify(promptVectors(promptVectorCases))))
})
