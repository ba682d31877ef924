// A graph that returns 5 MB (the faulty pool's maxOutput is the default 1 MB) is refused
// in its own worker: the output is measured there (data/worker/output.ts) and only the
// error travels. Counted in bytes, not time, on the rig's real processes: Redis receives
// and sends, and the gateway's process reads, a small fraction of one such output while
// runs of it fail OUTPUT_TOO_LARGE — the 5 MB never reach Redis or the gateway's loop.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'

import { Queue } from 'bullmq'

import { redisSkip } from '../helpers/redis.js'
import { getRun, submit } from './clients.js'
import { startRig } from './rig.js'

const skip = redisSkip()
const OUTPUT = 5 * 1024 * 1024
const RUNS = 3

/** Bytes a process has read through read-like system calls (sockets included), from /proc/PID/io. */
function bytesRead(pid: number): number {
  return Number(/^rchar: (\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1])
}

async function redisBytes(queue: Queue): Promise<{ input: number; output: number }> {
  // INFO through BullMQ's own connection (its public `client`): no Redis client of our own.
  const info = await (await queue.client).info()
  const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1])
  return { input: field('total_net_input_bytes'), output: field('total_net_output_bytes') }
}

void test(
  'an oversize output fails OUTPUT_TOO_LARGE in its worker: its bytes never reach Redis or the gateway',
  { skip, timeout: 120_000 },
  async () => {
    const rig = await startRig()
    const redis = new Queue('oversize-output-probe', { connection: { url: rig.redis.url } })
    try {
      const gateway = rig.gatewayPid()
      const linux = process.platform === 'linux'
      const redisBefore = await redisBytes(redis)
      const gatewayBefore = linux ? bytesRead(gateway) : 0
      for (let i = 0; i < RUNS; i++) {
        const key = `big-${i}`
        const answer = await submit(rig.url, 'chaos.big', { n: i, key }, { key, async: false, budgetMs: 30_000 })
        assert.equal(answer.status, 502, `run ${i}: ${JSON.stringify(answer)}`)
        const view = await getRun(rig.url, answer.runId ?? '')
        assert.equal(view?.error?.code, 'OUTPUT_TOO_LARGE', JSON.stringify(view))
      }
      const ledger = rig.ledger().filter((line) => line.key?.startsWith('big-') && line.event === 'end')
      assert.equal(ledger.length, RUNS, 'every graph returned its 5 MB (the ledger saw each end)')
      const redisAfter = await redisBytes(redis)
      // Heartbeats, BullMQ's commands and the runs' records: far below one output, let alone three.
      const budget = OUTPUT / 8
      assert.ok(redisAfter.input - redisBefore.input < budget, `Redis received ${redisAfter.input - redisBefore.input} bytes`)
      assert.ok(redisAfter.output - redisBefore.output < budget, `Redis sent ${redisAfter.output - redisBefore.output} bytes`)
      if (linux) {
        assert.equal(rig.gatewayPid(), gateway, 'the gateway was not restarted')
        const read = bytesRead(gateway) - gatewayBefore
        assert.ok(read < budget, `the gateway's process read ${read} bytes`)
      }
    } finally {
      await redis.close()
      await rig.close()
    }
  },
)
