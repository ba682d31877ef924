// Worker processes for the data-plane bench, without the pool worker runtime:
//   bullmq  a plain BullMQ Worker whose processor returns at once (the baseline);
//   source  Switchyard's redisRunSource with a handler that only verifies the
//           envelope's signature (the broker's own cost, without the runtime's).
// Each waits SWITCHYARD_BENCH_MODEL_DELAY_MS first, if set (run.ts --model-delay).
// Usage: node --import tsx raw-worker.ts bullmq|source <redis-url> <prefix> <queue|pool> <concurrency> [verify-keys]
import { setTimeout as sleep } from 'node:timers/promises'

import { Worker } from 'bullmq'

import { parseVerifyKeys, verifyEnvelope } from '../../src/data/index.js'
import { redisRunSource } from '../../src/data/broker/redis/index.js'

const [kind, url, prefix, name, concurrency, key] = process.argv.slice(2)
if (!url || !prefix || !name || !concurrency) {
  throw new Error('usage: raw-worker.ts bullmq|source <redis-url> <prefix> <queue|pool> <concurrency> [verify-keys]')
}
const keys = key ? parseVerifyKeys(key) : null
const delayMs = Number(process.env.SWITCHYARD_BENCH_MODEL_DELAY_MS ?? 0)
const model = async () => {
  if (delayMs > 0) await sleep(delayMs)
}

let stop: () => Promise<void>
if (kind === 'source') {
  const source = redisRunSource(name, { url, prefix })
  source.start(
    async ({ raw }) => {
      verifyEnvelope(raw, keys)
      await model()
      return { ok: true, output: { ok: true } }
    },
    { concurrency: Number(concurrency) },
  )
  stop = () => source.drain()
} else {
  const worker = new Worker(
    name,
    async () => {
      await model()
      return { ok: true }
    },
    { connection: { url }, prefix, concurrency: Number(concurrency) },
  )
  await worker.waitUntilReady()
  stop = () => worker.close()
}
process.stdout.write(`${kind} worker ready\n`)
process.once('SIGTERM', () => void stop().then(() => process.exit(0)))
