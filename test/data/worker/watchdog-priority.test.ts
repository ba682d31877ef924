// A worker whose event loop is blocked (a busy-looping graph) yields its CPU: after
// DEMOTE_AFTER_MS of silence the watchdog lowers the main thread to nice 19, so the
// gateway, Redis and the other pools' workers are served first; once the loop answers
// again its priority comes back where the process may raise it. A loop blocked with no
// run in flight (the worker's own start-up) is left alone: a restart demoted to nice 19
// crawled on a loaded machine while its pool's runs waited. Read from outside, in
// /proc (Linux), as the scheduler sees it.
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, readFileSync } from 'node:fs'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

import { eventually } from '../../helpers/eventually.js'

const BLOCKER = fileURLToPath(new URL('./fixtures/blocker.ts', import.meta.url))
const linux = existsSync('/proc/self/stat')

/** The nice value of a process's main thread (field 19 of /proc/<pid>/stat). */
function niceOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16])
}

/** Whether a process of this user may raise its priority back (root, CAP_SYS_NICE or RLIMIT_NICE). */
function mayRaise(): boolean {
  const probe = spawnSync(process.execPath, ['-e', "const os = require('node:os'); os.setPriority(0, 19); os.setPriority(0, 0)"])
  return probe.status === 0
}

void test(
  'a blocked event loop runs at nice 19 while it blocks, and gets its priority back after',
  { skip: linux ? false : 'reads /proc (Linux)' },
  async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', BLOCKER, '3000'], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
    try {
      await eventually('the child to start blocking', () => out.includes('blocking'))
      const pid = child.pid ?? 0
      assert.equal(niceOf(pid), 0)
      await eventually('the blocked process to be lowered to nice 19', () => niceOf(pid) === 19, 2800)
      assert.ok(!out.includes('free'), 'lowered only after the loop was free again')
      await eventually('the loop to be free', () => out.includes('free'))
      if (mayRaise()) await eventually('the priority to come back', () => niceOf(pid) === 0, 5000)
      else assert.equal(niceOf(pid), 19)
    } finally {
      child.kill('SIGKILL')
      await once(child, 'exit')
    }
  },
)

void test(
  'a loop blocked with no run in flight (start-up) keeps its priority',
  { skip: linux ? false : 'reads /proc (Linux)' },
  async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', BLOCKER, '2500', 'idle'], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
    try {
      await eventually('the child to start blocking', () => out.includes('blocking'))
      const pid = child.pid ?? 0
      // Watched for the whole block (2.5 s, the watchdog looks every 100 ms and would lower it after 1 s).
      while (!out.includes('free')) {
        assert.equal(niceOf(pid), 0, 'a start-up (no run in flight) was lowered to nice 19')
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    } finally {
      child.kill('SIGKILL')
      await once(child, 'exit')
    }
  },
)
