// What reaping every pool's dead workers and expiring its queued runs costs a gateway
// (RedisBroker's `reap` and `expire`, which `switchyard gateway` turns on) while nothing dies
// and nothing is due: three broker processes over the same registry of N pools on one
// redis-server, one doing both (the gateway's), one only reaping, one neither, idle side by
// side for the same window (same machine noise), each reporting its own CPU time; then the
// Redis commands each sends (INFO commandstats, read before and after its life on a server
// of its own, one after the other).
// Usage: node --import tsx bench/gateway/reaper-cost.ts [pools = 100] [seconds = 20]
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { Queue } from 'bullmq'

import { loadRegistry } from '../../src/control/index.js'
import { RedisBroker } from '../../src/data/broker/redis/index.js'
import { startRedis } from '../../test/helpers/redis.js'

const HERE = fileURLToPath(import.meta.url)
/** A child waits this long once connected: past the reaper's arming (5 s) before its window opens. */
const SETTLE_MS = 6_000

/** gateway: reaps and expires (as `switchyard gateway`); reap: reaps only; none: neither. */
type Mode = 'gateway' | 'reap' | 'none'
const MODES: readonly Mode[] = ['gateway', 'reap', 'none']

/** The child: one broker, idle for `seconds` once settled; prints its CPU ms over that window. */
async function child(config: string, url: string, mode: Mode, seconds: number): Promise<void> {
  const options = { reap: mode !== 'none', expire: mode === 'gateway' }
  const broker = await RedisBroker.connect({ registry: loadRegistry(config), url, ...options, evictionCheck: 'none' })
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS))
  const before = process.cpuUsage()
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000))
  const used = process.cpuUsage(before)
  console.log(JSON.stringify({ cpuMs: (used.user + used.system) / 1000 }))
  await broker.close()
}

/** Commands the server has run so far (every command, INFO commandstats). */
async function calls(url: string): Promise<number> {
  const queue = new Queue('bench-info', { connection: { url } })
  try {
    const client = (await queue.client) as unknown as { info(section: string): Promise<string> }
    const info = await client.info('commandstats')
    return [...info.matchAll(/^cmdstat_(\S+?):calls=(\d+)/gm)].reduce((sum, m) => sum + Number(m[2]), 0)
  } finally {
    await queue.close()
  }
}

function run(config: string, url: string, mode: Mode, seconds: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const node = spawn(process.execPath, ['--import', 'tsx', HERE, '--child', config, url, mode, String(seconds)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    let out = ''
    node.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
    node.once('exit', (code) => {
      const line = out.trim().split('\n').pop() ?? ''
      if (code !== 0) reject(new Error(`child exited ${code}: ${out}`))
      else resolve((JSON.parse(line) as { cpuMs: number }).cpuMs)
    })
  })
}

async function main(): Promise<void> {
  if (process.argv[2] === '--child') {
    const [config, url, mode, seconds] = process.argv.slice(3)
    await child(config ?? '', url ?? '', (mode ?? 'none') as Mode, Number(seconds))
    return
  }
  const pools = Number(process.argv[2] ?? 100)
  const seconds = Number(process.argv[3] ?? 20)
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-bench-reaper-'))
  writeFileSync(join(dir, 'g.mjs'), 'export function graph() { return (i) => i }\n')
  const lines = ['version: 1', 'pools:']
  for (let i = 0; i < pools; i += 1) lines.push(`  p${i}: {}`)
  lines.push('workflows:')
  for (let i = 0; i < pools; i += 1) lines.push(`  p${i}.w: { pool: p${i}, graph: g.mjs#graph, input: { type: object }, description: d }`)
  const config = join(dir, 'switchyard.yaml')
  writeFileSync(config, lines.join('\n') + '\n')
  const shared = await startRedis()
  const own = await startRedis()
  try {
    const cpu = await Promise.all(MODES.map((mode) => run(config, shared.url, mode, seconds)))
    const label: Record<Mode, string> = { gateway: 'reaping + expiring', reap: 'reaping only', none: 'neither' }
    const idle = cpu[2] ?? 0
    console.log(`${pools} pools, ${seconds} s idle, side by side:`)
    for (const [i, mode] of MODES.entries()) {
      const ms = cpu[i] ?? 0
      console.log(
        `  broker ${label[mode].padEnd(18)} ${ms.toFixed(0)} ms CPU (${((ms / seconds) * 0.1).toFixed(2)} % of a core; ` +
          `${((ms - idle) / seconds).toFixed(1)} ms CPU per second over neither)`,
      )
    }
    const life = seconds + SETTLE_MS / 1000
    for (const mode of MODES) {
      const before = await calls(own.url)
      await run(config, own.url, mode, seconds)
      const sent = (await calls(own.url)) - before
      console.log(`  Redis commands, ${label[mode]}, alone: ${sent} in ${life} s and its start (${(sent / life).toFixed(1)}/s)`)
    }
  } finally {
    await shared.stop()
    await own.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}

await main()
