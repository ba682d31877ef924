// Installable in a user's own project, exactly as the README's "Use it in your project"
// says: `npm pack` this repository, `npm init -y` a fresh folder outside it, install the
// tarball there, then `npx switchyard new`, `check`, `dev`, `run --trace` and the test
// `new` wrote. The graph module `new` writes imports `switchyard-ai/graph` and LangGraph:
// they resolve from the user's own node_modules, not from this repository.
// The install is pinned and offline-safe: the folder gets a lockfile naming the tarball
// and, for its dependencies, the versions this repository's lockfile holds (the ones CI's
// `npm ci` has just put in npm's cache), so with --prefer-offline it needs no registry,
// and a release upstream cannot break it between two CI runs.
import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { promisify } from 'node:util'
import { eventually } from '../helpers/eventually.js'

const run = promisify(execFile)
const REPO = join(import.meta.dirname, '../..')
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm'
const NPX = process.platform === 'win32' ? 'npx.cmd' : 'npx'

let work: string
let project: string
// A clean environment: nothing of this repository's (or the CI's) switchyard settings, nor this
// test runner's context (the project's own node --test would report to it), leaks in.
const env = Object.fromEntries(
  Object.entries(process.env).filter(([key]) => !key.startsWith('SWITCHYARD_') && !key.startsWith('OTEL_') && !key.startsWith('NODE_TEST')),
)

before(async () => {
  assert.ok(existsSync(join(REPO, 'dist', 'cli', 'main.js')), 'dist/ is missing: run npm run build first')
  work = mkdtempSync(join(tmpdir(), 'switchyard-install-'))
  project = join(work, 'my-assistants')
  // The tarball as `npm publish` would send it (dist is fresh: npm test builds first).
  const { stdout } = await run(NPM, ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: REPO, env })
  const [packed] = JSON.parse(stdout) as Array<{ filename: string; name: string; integrity: string; files: Array<{ path: string }> }>
  assert.equal(packed?.name, 'switchyard-ai')
  // Only what a user runs: no Python bytecode or build leftovers of this clone's own test runs.
  assert.deepEqual(
    packed.files.map((file) => file.path).filter((path) => /__pycache__|\.pyc$|\.egg-info|\.venv|^python\/build\//.test(path)),
    [],
  )
  mkdirSync(project)
  await run(NPM, ['init', '-y'], { cwd: project, env })
  pinDependencies(packed!.filename, packed!.integrity)
  await run(NPM, ['ci', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: project, env, timeout: 240_000 })
})
after(() => rmSync(work, { recursive: true, force: true }))

interface LockEntry {
  dev?: boolean
}

/**
 * What `npm install ../switchyard-ai-0.1.0.tgz` records, with the tarball's dependencies at
 * this repository's locked versions: the project's package.json names the tarball, its
 * lockfile holds the tarball (by integrity) and every non-dev package of ours.
 */
function pinDependencies(tarball: string, integrity: string): void {
  const spec = `file:../${tarball}`
  const ours = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as Record<string, unknown>
  const lock = JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> }
  const manifest = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8')) as Record<string, unknown>
  manifest.dependencies = { 'switchyard-ai': spec }
  writeFileSync(join(project, 'package.json'), JSON.stringify(manifest, null, 2))
  const packages: Record<string, unknown> = {
    '': { name: manifest.name, version: manifest.version, license: manifest.license, dependencies: manifest.dependencies },
    'node_modules/switchyard-ai': {
      version: ours.version,
      resolved: spec,
      integrity,
      license: ours.license,
      dependencies: ours.dependencies,
      bin: ours.bin,
      engines: ours.engines,
    },
  }
  for (const [path, entry] of Object.entries(lock.packages))
    if (path.startsWith('node_modules/') && entry.dev !== true) packages[path] = entry
  const lockfile = { name: manifest.name, version: manifest.version, lockfileVersion: 3, requires: true, packages }
  writeFileSync(join(project, 'package-lock.json'), JSON.stringify(lockfile, null, 2))
}

const npx = (args: string[]) => run(NPX, ['--no-install', 'switchyard', ...args], { cwd: project, env, timeout: 60_000 })

void test('npx switchyard new starts a registry and a workflow; check passes', async () => {
  const created = await npx(['new', 'lead.summary', '--pool', 'email', '--description', 'Summarise a lead for the account executive.'])
  assert.match(created.stdout, /switchyard\.yaml \(a new registry, with pool email\)/)
  assert.match(created.stdout, /\n {2}npx switchyard check\n/)
  assert.match(readFileSync(join(project, 'switchyard.yaml'), 'utf8'), /\n {2}lead\.summary:\n {4}pool: email\n/)
  const graph = readFileSync(join(project, 'workflows', 'lead-summary', 'graph.ts'), 'utf8')
  assert.match(graph, /from 'switchyard-ai\/graph'/)
  const checked = await npx(['check'])
  assert.match(checked.stdout, /✓ switchyard\.yaml: 1 workflow in 1 pool, graphs clean/)
})

void test('the test `new` wrote passes in the project', async () => {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', '--test', join('test', 'lead-summary.test.ts')], {
    cwd: project,
    env,
    timeout: 60_000,
  })
  assert.match(stdout, /^# pass 1$/m)
  assert.match(stdout, /^# fail 0$/m)
})

void test("the graph helpers resolve from the user's project, not from this repository", async () => {
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', "console.log(import.meta.resolve('switchyard-ai/graph'))"], {
    cwd: project,
    env,
  })
  const resolved = realpathSync(new URL(stdout.trim()))
  assert.ok(resolved.startsWith(realpathSync(join(project, 'node_modules', 'switchyard-ai'))), resolved)
})

void test('npx switchyard dev serves it; npx switchyard run --trace runs it and draws its tree', async () => {
  // Its own process group, so that stopping it reaches npx and the node it started, and nothing else.
  const dev = spawn(NPX, ['--no-install', 'switchyard', 'dev', '--port', '0'], {
    cwd: project,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let text = ''
  dev.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()))
  dev.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()))
  const exited = new Promise<number | null>((resolve) => dev.once('exit', (code) => resolve(code)))
  try {
    const url = await eventually('the gateway URL', () => /gateway (http:\/\/[\d.:]+)/.exec(text)?.[1], 60_000)
    await eventually('the pool ready', async () => (await fetch(`${url}/readyz`)).status === 200 || undefined, 60_000)
    const ran = await npx(['run', 'lead.summary', '--input', '@workflows/lead-summary/example.json', '--url', url, '--trace'])
    const [json, tree = ''] = ran.stdout.split('\n}\n')
    assert.equal((JSON.parse(`${json}\n}`) as { model: string }).model, 'offline')
    for (const name of ['client run lead.summary', 'POST /v1/workflows/{name}/run', 'run lead.summary', 'node ', 'chat offline']) {
      assert.ok(tree.includes(name), `'${name}' missing from the tree:\n${tree}`)
    }
    // The console is served from the installed package too.
    const page = await fetch(`${url}/`)
    assert.equal(page.status, 200)
    assert.equal((await fetch(`${url}/console/app.js`)).status, 200)
  } finally {
    if (dev.pid !== undefined && dev.exitCode === null) process.kill(-dev.pid, 'SIGINT')
    const timer = setTimeout(() => dev.pid !== undefined && process.kill(-dev.pid, 'SIGKILL'), 20_000)
    await exited
    clearTimeout(timer)
  }
  assert.match(text, /switchyard dev: stopped\n/, text)
})
