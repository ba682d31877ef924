// A misbehaving pool's CPU is bounded (cpu-policy.ts), on real processes: with a
// writable cgroup v1 `cpu` controller each pool's workers sit in a group of their own,
// and a crash drops that pool (only) to an eighth of the normal cpu.shares until it is
// quiet; without one, a worker restarted after a crash runs
// every thread at nice 19. Neither ever stops the pools from starting.
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { getPriority, tmpdir } from 'node:os'
import { join } from 'node:path'
import { spawn } from 'node:child_process'
import { test } from 'node:test'

import { MemoryBroker } from '../../../src/data/broker/memory/index.js'
import {
  CFS_PERIOD_US,
  NORMAL_SHARES,
  PENALTY_NICE,
  PENALTY_SHARES,
  openCpuPolicy,
  startSupervisor,
} from '../../../src/data/supervisor/index.js'
import { Events, WORKER_PROGRAM, eventually, onlyPools } from './supervisor-helpers.js'
import { envelopeFor, fixtureRegistry, LONG, VERIFY } from '../worker/worker-helpers.js'

const probe = openCpuPolicy({ pools: [], quietMs: 1000 })
probe.close()
const noGroups = probe.groupsDir === null ? `no per-pool CPU groups here: ${probe.description}` : false

const POOLS = ['work', 'discovery']

/** Both supervised tests' rig: pools work and discovery on the memory broker, their workers under `cpu`. */
function supervise(cpu: ReturnType<typeof openCpuPolicy>) {
  const registry = onlyPools(fixtureRegistry(), POOLS)
  const broker = new MemoryBroker({ pools: registry.pools.values(), retryDelayMs: 20 })
  const events = new Events()
  const supervisor = startSupervisor({
    registry,
    broker: { kind: 'memory', broker },
    worker: { ...WORKER_PROGRAM, args: (pool) => ['--pool', pool.name, '--ipc'] },
    verifyKeys: VERIFY,
    cpu,
    backoff: { initialMs: 50, maxMs: 1000, resetAfterMs: 60_000 },
    onEvent: events.push,
    output: events.output,
  })
  return { registry, broker, supervisor }
}

type Supervisor = ReturnType<typeof startSupervisor>

/** The first worker of each pool, once every pool is served. */
async function firstWorkers(supervisor: Supervisor, broker: MemoryBroker): Promise<{ work: number; discovery: number }> {
  await eventually('every pool served', () => broker.ready())
  const [work] = supervisor.pids('work')
  const [discovery] = supervisor.pids('discovery')
  assert.ok(work && discovery)
  return { work, discovery }
}

/** Kills discovery's worker (-9); resolves with its successor's pid once the pool is served again. */
async function crashed(supervisor: Supervisor, broker: MemoryBroker, discovery: number): Promise<number> {
  process.kill(discovery, 'SIGKILL')
  const restarted = await eventually('discovery restarted', () => supervisor.pids('discovery').find((pid) => pid !== discovery))
  await eventually('discovery served again', () => broker.ready())
  return restarted
}

function cpuCgroupOf(pid: number): string | undefined {
  return readFileSync(`/proc/${pid}/cgroup`, 'utf8')
    .split('\n')
    .find((line) => line.split(':')[1]?.split(',').includes('cpu'))
    ?.split(':')[2]
}

/** The nice of every thread of a process (/proc/PID/task/TID/stat, field 19). */
function threadNices(pid: number): number[] {
  return readdirSync(`/proc/${pid}/task`).map((tid) => {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16])
  })
}

void test(
  'CPU groups: each pool in its own; a killed worker drops its pool alone to low cpu.shares until quiet; close removes them',
  { skip: noGroups },
  async () => {
    const cpu = openCpuPolicy({ pools: POOLS, quietMs: 120_000 })
    const dir = cpu.groupsDir
    assert.ok(dir)
    const shares = (pool: string) => Number(readFileSync(join(dir, pool, 'cpu.shares'), 'utf8'))
    const { registry, broker, supervisor } = supervise(cpu)
    try {
      const { work, discovery } = await firstWorkers(supervisor, broker)
      const group = dir.slice(dir.lastIndexOf('/switchyard-'))
      assert.ok(cpuCgroupOf(work)?.endsWith(`${group}/work`), cpuCgroupOf(work))
      assert.ok(cpuCgroupOf(discovery)?.endsWith(`${group}/discovery`), cpuCgroupOf(discovery))
      // Every thread went (cgroup.procs), not only the main one: V8's GC threads burn CPU too.
      for (const tid of readdirSync(`/proc/${work}/task`)) {
        assert.ok(
          readFileSync(join(dir, 'work', 'tasks'), 'utf8')
            .split('\n')
            .includes(tid),
          `thread ${tid} of ${work}`,
        )
      }
      assert.equal(shares('work'), NORMAL_SHARES)
      assert.equal(shares('discovery'), NORMAL_SHARES)

      const restarted = await crashed(supervisor, broker, discovery)
      assert.equal(shares('discovery'), PENALTY_SHARES)
      assert.equal(shares('work'), NORMAL_SHARES)
      assert.ok(cpuCgroupOf(restarted)?.endsWith(`${group}/discovery`))
      // The penalised pool still serves; the other one too.
      for (const workflow of ['discovery.slow', 'work.echo']) {
        const envelope = envelopeFor(registry, workflow, { ms: 10 })
        await broker.submit(envelope)
        assert.equal((await broker.wait(envelope.runId, { until: Date.now() + LONG })).status, 'succeeded', workflow)
      }
    } finally {
      await supervisor.stop()
      await broker.close()
      cpu.close()
    }
    assert.equal(existsSync(dir), false, `${dir} was left behind`)
  },
)

void test('without CPU groups: a worker restarted after a crash runs every thread at nice 19, the other pool left alone', async () => {
  const cpu = openCpuPolicy({ pools: POOLS, quietMs: 120_000, setting: 'off' })
  assert.equal(cpu.groupsDir, null)
  assert.match(cpu.description, /no per-pool CPU groups \(SWITCHYARD_CPU_CGROUP=off\): a worker restarted after a crash runs at nice 19/)
  const own = getPriority()
  const { registry, broker, supervisor } = supervise(cpu)
  try {
    const { work, discovery } = await firstWorkers(supervisor, broker)
    assert.deepEqual(new Set(threadNices(discovery)), new Set([own]), 'a first start keeps the supervisor’s priority')
    const restarted = await crashed(supervisor, broker, discovery)
    // Its threads, those started after the renice included (they inherit it), run at nice 19 once it serves.
    const envelope = envelopeFor(registry, 'discovery.slow', { ms: 10 })
    await broker.submit(envelope)
    assert.equal((await broker.wait(envelope.runId, { until: Date.now() + LONG })).status, 'succeeded')
    assert.deepEqual(new Set(threadNices(restarted)), new Set([PENALTY_NICE]))
    assert.deepEqual(new Set(threadNices(work)), new Set([own]), 'the other pool is left alone')
  } finally {
    await supervisor.stop()
    await broker.close()
    cpu.close()
  }
})

void test('CPU policy: a folder that is no cpu cgroup falls back to nice and says why; it never throws', () => {
  const folder = mkdtempSync(join(tmpdir(), 'switchyard-no-cgroup-'))
  try {
    const cpu = openCpuPolicy({ pools: ['a'], quietMs: 1000, setting: folder })
    assert.equal(cpu.groupsDir, null)
    assert.ok(cpu.description.includes(`${folder} has no cpu.shares`), cpu.description)
    cpu.started('a', process.pid, false)
    cpu.misbehaved('a')
    cpu.close()
  } finally {
    rmSync(folder, { recursive: true, force: true })
  }
})

void test('CPU groups: the penalty is set at once and lifted after quietMs; close removes the group', { skip: noGroups }, async () => {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' })
  const pid = child.pid
  assert.ok(pid)
  const cpu = openCpuPolicy({ pools: ['a'], quietMs: 300 })
  const dir = cpu.groupsDir
  assert.ok(dir)
  const shares = () => Number(readFileSync(join(dir, 'a', 'cpu.shares'), 'utf8'))
  try {
    cpu.started('a', pid, false)
    assert.ok(
      readFileSync(join(dir, 'a', 'cgroup.procs'), 'utf8')
        .split('\n')
        .includes(String(pid)),
    )
    cpu.misbehaved('a')
    assert.equal(shares(), PENALTY_SHARES)
    await eventually('normal shares again', () => shares() === NORMAL_SHARES)
  } finally {
    child.kill('SIGKILL')
    await new Promise((resolve) => child.once('exit', resolve))
    cpu.close()
  }
  assert.equal(existsSync(dir), false)
})

void test(
  "CPU caps: a pool's cpu: is its group's CFS quota, a busy process in it is throttled, the other pool uncapped; close removes it",
  { skip: noGroups },
  async () => {
    const busy = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' })
    const pid = busy.pid
    assert.ok(pid)
    const cpu = openCpuPolicy({ pools: ['capped', 'free'], caps: new Map([['capped', 0.25]]), quietMs: 1000 })
    const dir = cpu.groupsDir
    assert.ok(dir)
    const read = (pool: string, file: string) => readFileSync(join(dir, pool, file), 'utf8').trim()
    try {
      assert.equal(read('capped', 'cpu.cfs_period_us'), String(CFS_PERIOD_US))
      assert.equal(read('capped', 'cpu.cfs_quota_us'), String(0.25 * CFS_PERIOD_US))
      assert.equal(read('free', 'cpu.cfs_quota_us'), '-1', 'a pool without cpu: has no cap')
      assert.match(cpu.description, /capped \(cpu\.cfs_quota_us per 100000\): capped 0\.25 cores/)
      cpu.started('capped', pid, false)
      // The kernel holds it to its quota: periods in which it was throttled (cpu.stat), not a timing.
      await eventually('the busy process throttled', () => Number(/^nr_throttled (\d+)$/m.exec(read('capped', 'cpu.stat'))?.[1]) > 0)
    } finally {
      busy.kill('SIGKILL')
      await new Promise((resolve) => busy.once('exit', resolve))
      cpu.close()
    }
    assert.equal(existsSync(dir), false, `${dir} was left behind`)
  },
)

void test("CPU caps without groups: start says which pools' caps are not applied, and runs all the same", () => {
  const cpu = openCpuPolicy({ pools: ['capped'], caps: new Map([['capped', 1.5]]), quietMs: 1000, setting: 'off' })
  assert.equal(cpu.groupsDir, null)
  assert.match(cpu.description, /; cpu: caps NOT applied: capped 1\.5 cores$/)
  cpu.close()
})

void test('CPU policy without groups: a worker restarted after a crash is lowered at once, and raised again after quietMs where allowed', async () => {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' })
  const pid = child.pid
  assert.ok(pid)
  const cpu = openCpuPolicy({ pools: ['a'], quietMs: 300, setting: 'off' })
  try {
    const own = getPriority()
    cpu.started('a', pid, false)
    assert.deepEqual(new Set(threadNices(pid)), new Set([own]), 'a first start is left alone')
    cpu.started('a', pid, true)
    assert.deepEqual(new Set(threadNices(pid)), new Set([PENALTY_NICE]))
    if (process.getuid?.() === 0) await eventually('its priority back', () => threadNices(pid).every((nice) => nice === own))
  } finally {
    cpu.close()
    child.kill('SIGKILL')
  }
})
