// The whole test suite: every test/**/*.test.ts under node's test runner (TypeScript
// through tsx), then the Python package's lint (ruff), types (mypy --strict) and pytest
// suite, then one closing line with the totals. SWITCHYARD_PYTHON picks the interpreter
// (CI's virtualenv; default python3). Node 20's --test does not expand globs, so the file list is built here.
// Usage: node scripts/test.mjs [filter...]   (a filter keeps test files whose path contains it;
// with filters, pytest runs only when a filter names python/)
import { spawn, spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'

function find(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return entry.name === 'fixtures' ? [] : find(path)
    return entry.name.endsWith('.test.ts') ? [path] : []
  })
}

/** Run a command, echoing its output as it comes; resolve with its exit code and full stdout. */
function run(command, args, options = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'], ...options })
    let out = ''
    child.stdout.on('data', (chunk) => {
      out += chunk
      process.stdout.write(chunk)
    })
    child.on('close', (code) => resolve({ code: code ?? 1, out }))
  })
}

const count = (text, pattern) => Number(pattern.exec(text)?.[1] ?? 0)

const filters = process.argv.slice(2)
const files = find('test')
  .filter((file) => filters.length === 0 || filters.some((f) => file.includes(f)))
  .sort()
const runPython = filters.length === 0 || filters.some((f) => f.startsWith('python'))
if (files.length === 0 && !runPython) {
  console.error(`no test files match ${filters.join(' ')}`)
  process.exit(1)
}

let passed = 0
let failed = 0
let ok = true

if (files.length > 0) {
  // Each file runs under this timeout as a whole, whatever its tests declare: the chaos
  // suite's short form declares 300 s and takes 87–97 s on two shared cores, and a 120 s
  // bound cut it once in three whole runs (2026-12-07).
  const node = await run(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=300000', ...files])
  passed += count(node.out, /^# pass (\d+)/m)
  failed += count(node.out, /^# fail (\d+)/m) + count(node.out, /^# cancelled (\d+)/m)
  ok &&= node.code === 0
}

if (runPython) {
  const python = process.env.SWITCHYARD_PYTHON?.trim() || 'python3'
  const install = `${python} -m pip install './python[test]' (in a virtualenv; see README)`
  const probe = spawnSync(python, ['-c', 'import pytest, ruff, mypy, langgraph, openai, anthropic'], { stdio: 'ignore' })
  if (probe.status !== 0) {
    if (process.env.CI) {
      console.error(`the Python test tools are not installed, and CI must run them: ${install}`)
      process.exit(1)
    }
    console.log(`# python: the test tools are not installed, Python checks and tests skipped: ${install}`)
  } else {
    // Lint and strict types are checks like the tests: each counts as one test, passed or failed.
    for (const [name, args] of [
      ['ruff', ['-m', 'ruff', 'check', '.']],
      ['mypy --strict', ['-m', 'mypy']],
    ]) {
      console.log(`# python: ${name}`)
      const tool = await run(python, args, { cwd: 'python' })
      if (tool.code === 0) passed += 1
      else failed += 1
      ok &&= tool.code === 0
    }
    const py = await run(python, ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', 'python/tests'])
    passed += count(py.out, /(\d+) passed/)
    failed += count(py.out, /(\d+) failed/) + count(py.out, /(\d+) errors?\b/)
    ok &&= py.code === 0
  }
}

console.log(`\ntests: ${passed} passed, ${failed} failed`)
process.exit(ok && failed === 0 ? 0 : 1)
