// Writes the spec/ files that are generated from the TypeScript source of truth, so that
// other languages (the Python worker) read the same tables. `npm run spec`; the tests in
// test/control/contract/ fail when a file here and its source disagree.
import { writeFileSync } from 'node:fs'
import { ATTR, DURATION_BUCKETS, ERROR_CODES, GENAI, METRICS, SERVICE } from '../src/control/index.js'

const here = (file: string) => new URL(`../spec/${file}`, import.meta.url)
const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`

/** spec/error-codes.json: the closed map of error codes (status, retryable, when). */
export function errorCodesSpec(): string {
  return json({ $comment: 'Generated from src/control/contract/error-codes.ts by `npm run spec`.', codes: ERROR_CODES })
}

/** spec/attributes.json: span attribute and resource names, and the service names of each process. */
export function attributesSpec(): string {
  return json({
    $comment: 'Generated from src/control/contract/attributes.ts by `npm run spec`.',
    switchyard: ATTR,
    genai: GENAI,
    service: { gateway: SERVICE.gateway, pool: SERVICE.pool('{pool}') },
  })
}

/** spec/metrics.json: every Prometheus series, its type, help, label names and who serves it. */
export function metricsSpec(): string {
  return json({
    $comment: 'Generated from src/control/contract/metrics.ts by `npm run spec`.',
    durationBuckets: DURATION_BUCKETS,
    metrics: Object.values(METRICS),
  })
}

const FILES: Record<string, () => string> = {
  'error-codes.json': errorCodesSpec,
  'attributes.json': attributesSpec,
  'metrics.json': metricsSpec,
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  for (const [file, make] of Object.entries(FILES)) {
    writeFileSync(here(file), make())
    console.log(`wrote spec/${file}`)
  }
}
