// What one request costs the gateway's event loop, by kind, on the chaos rig
// (test/chaos/rig.ts: `switchyard start` on Redis, a neighbour pool and a faulty pool of
// 2 × 4 slots with maxQueued 40): the gateway process's CPU time (/proc/PID/stat, Linux)
// over a batch of requests, divided by their count, beside the wall time per request.
// A flood's refusals and accepted runs, set against GET /healthz (the HTTP floor) and a
// synchronous no-op run: what a burst of N such requests holds the one loop for
// (RELIABILITY.md, "What bounds the flood").
// Usage: npm run build && node --import tsx bench/gateway/request-cost.ts [requests per kind = 2000]
import { readFileSync } from 'node:fs'

import { startRig } from '../../test/chaos/rig.js'

const N = Number(process.argv[2] ?? 2000)
const rig = await startRig({ quiet: true })
const gatewayCpuMs = () => {
  const fields = readFileSync(`/proc/${rig.gatewayPid()}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? []
  return (Number(fields[11]) + Number(fields[12])) * 10 // utime + stime, in clock ticks of 10 ms
}
const post = async (workflow: string, input: unknown, key: string | null, async = true) => {
  const response = await fetch(`${rig.url}/v1/workflows/${workflow}/run`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(async ? { prefer: 'respond-async' } : {}),
      ...(key ? { 'idempotency-key': key } : {}),
    },
    body: JSON.stringify(input),
  })
  await response.arrayBuffer()
  return response.status
}

async function measure(label: string, n: number, concurrency: number, send: (i: number) => Promise<number>, expect: number) {
  const cpu0 = gatewayCpuMs()
  const t0 = performance.now()
  let next = 0
  let other = 0
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) if ((await send(next++)) !== expect) other += 1
    }),
  )
  const cpuUs = ((gatewayCpuMs() - cpu0) * 1000) / n
  const wallUs = ((performance.now() - t0) * 1000) / n
  console.log(
    `${label.padEnd(44)} ${cpuUs.toFixed(0).padStart(6)} ${wallUs.toFixed(0).padStart(7)}   ${other === 0 ? `all ${expect}` : `${other} not ${expect}`}`,
  )
}

try {
  console.log(`${'request'.padEnd(44)} gateway CPU µs  wall µs (per request; ${N} of each, after a warm-up)`)
  await measure('(warm-up) synchronous no-op run', 300, 4, (i) => post('neighbour.echo', { n: i }, `w-${i}`, false), 200)
  await measure(
    'GET /healthz',
    N,
    8,
    async () => await fetch(`${rig.url}/healthz`).then(async (r) => (await r.arrayBuffer(), r.status)),
    200,
  )
  await measure(
    'synchronous no-op run (neighbour.echo)',
    Math.ceil(N / 2),
    4,
    (i) => post('neighbour.echo', { n: i }, `e-${i}`, false),
    200,
  )
  // Fill the faulty pool: 8 running + 40 queued, each waiting 120 s.
  await measure('accepted async run (filling the pool)', 48, 8, (i) => post('chaos.work', { n: i, ms: 120_000 }, `fill-${i}`), 202)
  await measure('keyless async, pool full (full-pool hint)', N, 8, (i) => post('chaos.work', { n: i, ms: 100 }, null), 429)
  await measure('keyed async, pool full (admission script)', N, 8, (i) => post('chaos.work', { n: i, ms: 100 }, `k-${i}`), 429)
} finally {
  await rig.close()
}
