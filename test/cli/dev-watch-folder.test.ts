// watchFolder, the change detector behind `switchyard dev --watch`, on both of its paths:
// with fs.watch, and with fs.watch turned off — a machine whose filesystem delivers no
// inotify events, where only the interval's stat scan can see a save. Either way a save,
// an added file, a removed file, an atomic rename and a same-size rewrite are each
// reported once; caches, dependencies and editor temp files never are.
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { watchFolder, type RegistryWatcher } from '../../src/cli/dev-watch.js'
import { eventually } from '../helpers/eventually.js'

for (const fsWatch of [false, true]) {
  void describe(fsWatch ? 'watchFolder with fs.watch' : 'watchFolder by stat scan alone (fs.watch off)', () => {
    let dir: string
    let watcher: RegistryWatcher
    const reports: string[][] = []
    let marks = 0

    /**
     * Make `change`, then touch a marker file once it is reported, so that the report after
     * it being the marker alone proves the change was reported exactly once (no waiting on a clock).
     */
    async function reportedOnce(what: string, change: () => void): Promise<string[]> {
      const from = reports.length
      change()
      const first = await eventually(what, () => reports[from], 20_000)
      const marker = `mark-${++marks}.txt`
      writeFileSync(join(dir, marker), String(marks))
      const next = await eventually(`the marker after ${what}`, () => reports[from + 1], 20_000)
      assert.deepEqual(next, [marker], `${what} was reported once, then only the marker: ${JSON.stringify(reports.slice(from))}`)
      return first
    }

    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'switchyard-watch-folder-'))
      mkdirSync(join(dir, 'graphs'))
      mkdirSync(join(dir, 'node_modules', 'dep'), { recursive: true })
      mkdirSync(join(dir, '.switchyard'))
      writeFileSync(join(dir, 'switchyard.yaml'), 'version: 1\n')
      writeFileSync(join(dir, 'graphs', 'a.ts'), 'export const a = 1\n')
      watcher = watchFolder(dir, (files) => reports.push(files), { fsWatch, intervalMs: 100, debounceMs: 50 })
    })
    after(() => {
      watcher.close()
      rmSync(dir, { recursive: true, force: true })
    })

    void test('a save is reported once, by its path relative to the folder', async () => {
      const files = await reportedOnce('the save', () => writeFileSync(join(dir, 'graphs', 'a.ts'), 'export const a = 2\n'))
      assert.deepEqual(files, [join('graphs', 'a.ts')])
    })

    void test('an added file and a removed file are changes', async () => {
      assert.deepEqual(await reportedOnce('the added file', () => writeFileSync(join(dir, 'graphs', 'b.ts'), 'export const b = 1\n')), [
        join('graphs', 'b.ts'),
      ])
      assert.deepEqual(await reportedOnce('the removed file', () => rmSync(join(dir, 'graphs', 'b.ts'))), [join('graphs', 'b.ts')])
    })

    void test('an editor saving through a temp file and a rename reports the file, not the temp', async () => {
      const files = await reportedOnce('the atomic save', () => {
        writeFileSync(join(dir, 'graphs', 'a.ts.tmp'), 'export const a = 3\n')
        renameSync(join(dir, 'graphs', 'a.ts.tmp'), join(dir, 'graphs', 'a.ts'))
      })
      assert.deepEqual(files, [join('graphs', 'a.ts')])
    })

    void test('a rewrite of the same size with the modification time put back is still a change (ctime)', async () => {
      const path = join(dir, 'switchyard.yaml')
      const { atime, mtime } = statSync(path)
      const files = await reportedOnce('the same-size rewrite', () => {
        writeFileSync(path, 'version: 2\n')
        utimesSync(path, atime, mtime)
      })
      assert.deepEqual(files, ['switchyard.yaml'])
    })

    void test('dependencies, our cache, editor swap, backup and lock files, and logs are not changes', async () => {
      const files = await reportedOnce('the real edit among the noise', () => {
        writeFileSync(join(dir, 'node_modules', 'dep', 'index.js'), 'module.exports = 1\n')
        writeFileSync(join(dir, '.switchyard', 'registry.json'), '{}\n')
        writeFileSync(join(dir, 'graphs', '.a.ts.swp'), 'swap')
        writeFileSync(join(dir, 'graphs', 'a.ts~'), 'backup')
        writeFileSync(join(dir, 'graphs', '.#a.ts'), 'lock')
        writeFileSync(join(dir, 'graphs', '4913'), '')
        writeFileSync(join(dir, 'dev.log'), 'switchyard dev: reloaded after …\n')
        writeFileSync(join(dir, 'graphs', 'a.ts'), 'export const a = 4\n')
      })
      assert.deepEqual(files, [join('graphs', 'a.ts')])
    })

    void test('after close, nothing is reported', async () => {
      const spare = watchFolder(dir, (files) => reports.push(['spare', ...files]), { fsWatch, intervalMs: 20, debounceMs: 10 })
      spare.close()
      await reportedOnce('a save after the spare watcher closed', () => writeFileSync(join(dir, 'graphs', 'a.ts'), 'export const a = 5\n'))
      assert.equal(
        reports.some((files) => files[0] === 'spare'),
        false,
      )
    })
  })
}

void test('the scan is bounded: past maxFiles, files are not looked at, and the caller is told once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-watch-bound-'))
  const reports: string[][] = []
  try {
    for (const name of ['a.txt', 'b.txt', 'c.txt']) writeFileSync(join(dir, name), name)
    const limits: number[] = []
    const watcher = watchFolder(dir, (files) => reports.push(files), {
      fsWatch: false,
      intervalMs: 50,
      debounceMs: 20,
      maxFiles: 2,
      onLimit: (max) => limits.push(max),
    })
    try {
      writeFileSync(join(dir, 'c.txt'), 'c, changed past the bound')
      writeFileSync(join(dir, 'b.txt'), 'b, changed within it')
      const files = await eventually('the change within the bound', () => reports[0], 20_000)
      assert.deepEqual(files, ['b.txt'])
      assert.deepEqual(limits, [2], 'told once, however many scans hit the bound')
    } finally {
      watcher.close()
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
