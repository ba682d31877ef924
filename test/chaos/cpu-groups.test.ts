// `switchyard start` bounds a faulty pool's CPU where the machine allows it (cgroup v1
// `cpu`, writable): it says what it does in one line, each pool's workers run in a CPU
// group of their own (a pool's `cpu:` cap its group's CFS quota), a pool whose worker was killed drops to low cpu.shares (its
// neighbour keeps 1024), and the groups go when start stops. Where the machine does not
// allow it, start says why and runs all the same. Figures: bench/neighbour.
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { test } from 'node:test'

import { CFS_PERIOD_US, NORMAL_SHARES, PENALTY_SHARES } from '../../src/data/supervisor/index.js'
import { eventually } from '../helpers/eventually.js'
import { redisSkip } from '../helpers/redis.js'
import { startRig } from './rig.js'

const skip = redisSkip()

void test(
  'start: each pool in a CPU group of its own; a killed worker lowers its pool alone; the groups go with start',
  { skip, timeout: 120_000 },
  async () => {
    // The faulty pool capped at 1.5 cores (`cpu: 1.5`), as a registry may say: start applies it as its group's quota.
    const rig = await startRig({ faultyCpu: 1.5 })
    let groups: string | undefined
    try {
      const said = rig
        .log()
        .split('\n')
        .find((line) => line.includes('switchyard start: CPU: '))
      assert.ok(said, rig.log().slice(-3000))
      groups = /\(cgroup v1 cpu, (\S+)\)/.exec(said)?.[1]
      if (groups === undefined) {
        // The machine does not allow it: start said why and serves all the same.
        assert.match(
          said,
          /no per-pool CPU groups \(.+\): a worker restarted after a crash runs at nice 19.*; cpu: caps NOT applied: faulty 1\.5 cores/,
        )
        return
      }
      const dir = groups
      const shares = (pool: string) => Number(readFileSync(`${dir}/${pool}/cpu.shares`, 'utf8'))
      const inGroup = (pool: string, pid: number) => readFileSync(`${dir}/${pool}/cgroup.procs`, 'utf8').split('\n').includes(String(pid))
      const [neighbour] = rig.workers('neighbour')
      const faulty = await eventually('two faulty workers', () => (rig.workers('faulty').length === 2 ? rig.workers('faulty') : undefined))
      assert.ok(neighbour && inGroup('neighbour', neighbour))
      for (const pid of faulty) assert.ok(inGroup('faulty', pid), `faulty ${pid} in ${dir}/faulty`)
      assert.equal(shares('faulty'), NORMAL_SHARES)
      assert.match(said, /capped \(cpu\.cfs_quota_us per 100000\): faulty 1\.5 cores/)
      const quota = (pool: string) => readFileSync(`${dir}/${pool}/cpu.cfs_quota_us`, 'utf8').trim()
      assert.equal(quota('faulty'), String(1.5 * CFS_PERIOD_US))
      assert.equal(readFileSync(`${dir}/faulty/cpu.cfs_period_us`, 'utf8').trim(), String(CFS_PERIOD_US))
      assert.equal(quota('neighbour'), '-1', 'the neighbour has no cap')

      process.kill(faulty[0]!, 'SIGKILL')
      const restarted = await eventually('the faulty worker restarted', () => rig.workers('faulty').find((pid) => !faulty.includes(pid)))
      assert.ok(inGroup('faulty', restarted))
      assert.equal(shares('faulty'), PENALTY_SHARES)
      assert.equal(shares('neighbour'), NORMAL_SHARES)
    } finally {
      await rig.close()
    }
    // The groups, and their caps with them, go when start stops.
    if (groups !== undefined) assert.equal(existsSync(groups), false, `${groups} left behind`)
  },
)
