// Writes the spec/ files that are generated from the TypeScript source of truth, so that
// other languages (the Python worker) read the same tables. `npm run spec`; the tests in
// test/control/contract/ fail when a file here and its source disagree.
import { writeFileSync } from 'node:fs'
import { ERROR_CODES } from '../src/control/index.js'

const here = (file: string) => new URL(`../spec/${file}`, import.meta.url)

/** spec/error-codes.json: the closed map of error codes (status, retryable, when). */
export function errorCodesSpec(): string {
  return `${JSON.stringify({ $comment: 'Generated from src/control/contract/error-codes.ts by `npm run spec`.', codes: ERROR_CODES }, null, 2)}\n`
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  writeFileSync(here('error-codes.json'), errorCodesSpec())
  console.log('wrote spec/error-codes.json')
}
