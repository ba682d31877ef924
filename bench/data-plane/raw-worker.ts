// Worker processes for the data-plane bench, without the pool worker runtime:
//   bullmq  a plain BullMQ Worker whose processor returns at once (the baseline);
//   source  Switchyard's redisRunSource with a handler that only verifies the
//           envelope's signature (the broker's own cost, without the runtime's).
// Usage: node --import tsx raw-worker.ts bullmq|source <redis-url> <prefix> <queue|pool> <concurrency> [signing-key]
import { Worker } from 'bullmq'

import { verifyEnvelope } from '../../src/data/index.js'
import { redisRunSource } from '../../src/data/broker/redis/index.js'

const [kind, url, prefix, name, concurrency, key] = process.argv.slice(2)
if (!url || !prefix || !name || !concurrency) {
  throw new Error('usage: raw-worker.ts bullmq|source <redis-url> <prefix> <queue|pool> <concurrency> [signing-key]')
}

let stop: () => Promise<void>
if (kind === 'source') {
  const source = redisRunSource(name, { url, prefix })
  source.start(
    async ({ raw }) => {
      verifyEnvelope(raw, key ?? null)
      return { ok: true, output: { ok: true } }
    },
    { concurrency: Number(concurrency) },
  )
  stop = () => source.drain()
} else {
  const worker = new Worker(name, async () => ({ ok: true }), { connection: { url }, prefix, concurrency: Number(concurrency) })
  await worker.waitUntilReady()
  stop = () => worker.close()
}
process.stdout.write(`${kind} worker ready\n`)
process.once('SIGTERM', () => void stop().then(() => process.exit(0)))
