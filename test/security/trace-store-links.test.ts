// Whoever may write `.switchyard/` (SECURITY.md row 3's precondition: a graph in `dev`, a
// shared folder) may write `.switchyard/traces` too. The trace store made its folders with a
// recursive mkdir and appended with open(…, 'a'), both following links, and retention
// unlinked the oldest `<seq>.jsonl` of whatever folder a project's name led to: a link
// planted there had the gateway append to, read and delete files elsewhere. Now nothing in
// the store's folder is followed (file-trace-store.ts); the victims are untouched and the
// store still works.
import assert from 'node:assert/strict'
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it, type TestContext } from 'node:test'
import { FileTraceStore, type StoredSpan } from '../../src/observe/store/index.js'

const PROJECT = 'sales-email'

let next = 0
const span = (): StoredSpan => {
  next++
  return {
    traceId: next.toString(16).padStart(32, '0'),
    spanId: next.toString(16).padStart(16, '0'),
    parentSpanId: null,
    name: 'run x',
    kind: 'consumer',
    service: 's',
    project: PROJECT,
    start: next,
    end: next + 1,
    status: 'ok',
    attributes: {},
    resource: {},
  }
}

/** A `.switchyard` folder and, beside it, a victim folder holding files named as segments are. */
function site(t: TestContext): { traces: string; victim: string; files: Record<string, string> } {
  const root = mkdtempSync(join(tmpdir(), 'switchyard-trace-links-'))
  t.after(() => rmSync(root, { recursive: true, force: true }))
  const victim = join(root, 'victim')
  mkdirSync(victim)
  const files: Record<string, string> = {
    '00000001.jsonl': 'precious 1, no trace\n',
    '00000002.jsonl': 'precious 2, no trace\n',
    'a.conf': 'precious a',
  }
  for (const [name, text] of Object.entries(files)) writeFileSync(join(victim, name), text)
  const traces = join(root, '.switchyard', 'traces')
  mkdirSync(join(root, '.switchyard'))
  return { traces, victim, files }
}

function contents(dir: string): Record<string, string> {
  return Object.fromEntries(readdirSync(dir).map((name) => [name, readFileSync(join(dir, name), 'utf8')]))
}

/** Enough traces, one export each, for retention to drop segments (2 traces kept, 1 per segment). */
async function fill(store: FileTraceStore, count = 6): Promise<StoredSpan[]> {
  const spans = Array.from({ length: count }, span)
  for (const one of spans) await store.add([one])
  return spans
}

void describe('what is planted in the trace store folder never steers the gateway', () => {
  void it('a project folder linked to another folder: nothing appended, read or deleted there; made again as a folder', async (t) => {
    const { traces, victim, files } = site(t)
    mkdirSync(traces)
    symlinkSync(victim, join(traces, PROJECT))

    const store = await FileTraceStore.open(traces, { maxTracesPerProject: 2 })
    const spans = await fill(store)

    assert.deepEqual(contents(victim), files)
    assert.ok(lstatSync(join(traces, PROJECT)).isDirectory(), 'made again as a folder of its own')
    const last = spans.at(-1) as StoredSpan
    assert.deepEqual(await store.getTrace(last.traceId), [last])
    await store.close()
  })

  void it('a segment linked to another file: never appended to nor read; the store writes a segment of its own', async (t) => {
    const { traces, victim, files } = site(t)
    mkdirSync(join(traces, PROJECT), { recursive: true })
    // One link where the next segment will be, one in place of an existing one (read at open).
    symlinkSync(join(victim, '00000001.jsonl'), join(traces, PROJECT, '00000001.jsonl'))
    const store = await FileTraceStore.open(traces, { maxTracesPerProject: 16 })
    const first = await fill(store, 1)
    symlinkSync(join(victim, '00000002.jsonl'), join(traces, PROJECT, '00000002.jsonl'))
    await fill(store, 3)
    await store.close()

    assert.deepEqual(contents(victim), files)
    for (const name of readdirSync(join(traces, PROJECT))) assert.ok(lstatSync(join(traces, PROJECT, name)).isFile(), name)
    const reopened = await FileTraceStore.open(traces, { maxTracesPerProject: 16 })
    assert.deepEqual(await reopened.getTrace(first[0]?.traceId ?? ''), first)
    assert.equal(reopened.projectStats()[0]?.traces, 4)
    await reopened.close()
  })

  void it('a project folder swapped for a link while the store appends: retention deletes nothing there', async (t) => {
    const { traces, victim, files } = site(t)
    // Segments of 1,000 bytes, 8,000 kept: a big span appended to the open segment drops the oldest.
    const store = await FileTraceStore.open(traces, { maxBytesPerProject: 8000 })
    const sized = (bytes: number): StoredSpan => ({ ...span(), attributes: { pad: 'x'.repeat(bytes) } })
    await store.add([sized(1200)])
    await store.add([sized(100)])
    // Moved away and replaced by a link to the victim, whose files are named as the store's segments.
    renameSync(join(traces, PROJECT), join(traces, 'moved'))
    symlinkSync(victim, join(traces, PROJECT))
    const big = sized(7000)
    await store.add([big])

    assert.deepEqual(contents(victim), files)
    // Its lines went to the open segment, now in the moved folder: not read through the link either.
    assert.deepEqual(await store.getTrace(big.traceId), [])
    // The store goes on: its next segment is made in a folder of its own.
    const after = await fill(store, 1)
    assert.deepEqual(contents(victim), files)
    assert.ok(lstatSync(join(traces, PROJECT)).isDirectory())
    assert.deepEqual(await store.getTrace(after[0]?.traceId ?? ''), after)
    await store.close()
  })

  void it('the store folder itself a link: refused with a clear message, nothing written or deleted through it', async (t) => {
    const { traces, victim, files } = site(t)
    mkdirSync(join(victim, PROJECT))
    for (const [name, text] of Object.entries(files)) writeFileSync(join(victim, PROJECT, name), text)
    symlinkSync(victim, traces)

    await assert.rejects(FileTraceStore.open(traces, { maxTracesPerProject: 2 }), /trace store folder .* is a symbolic link/)

    assert.deepEqual(contents(join(victim, PROJECT)), files)
    // Removed, the store makes a folder of its own and works.
    rmSync(traces)
    const store = await FileTraceStore.open(traces, { maxTracesPerProject: 2 })
    const [one] = await fill(store, 1)
    assert.deepEqual(await store.getTrace(one?.traceId ?? ''), [one])
    await store.close()
  })
})
