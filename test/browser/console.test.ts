// The console in a real browser (Debian's Chromium, driven by playwright-core) against a
// live `switchyard dev` behind tokens, on the sales example copied into a project of its
// own (plus a `lab` pool whose workflow always fails, for a dead-lettered run). Every page
// loads; the page asks for a token and then shows data; a run submitted from the form
// generated from email.compose's input schema opens with a waterfall holding gateway and
// worker spans and an attributes panel; Retry starts a new run; a long status does not
// push the table's columns; the runs page lists every run — running, queued behind it,
// untraced (a pool sampling nothing), dead-lettered — and Cancel ends the running and the
// queued one. Screenshots go to SWITCHYARD_SCREENSHOTS (default: a folder under the system
// temp dir, printed by the test; `test-output/` is gitignored for CI artifacts), never
// into the repository.
import assert from 'node:assert/strict'
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, appendFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { chromium, type Browser, type Page } from 'playwright-core'
import { spawnDev, type DevProcess } from '../cli/dev-process.js'
import { eventually } from '../helpers/eventually.js'

const REPO = join(import.meta.dirname, '../..')
const CHROMIUM = process.env.SWITCHYARD_CHROMIUM ?? '/usr/bin/chromium'
const TOKEN = 'console-test-token'
const SHOTS = process.env.SWITCHYARD_SCREENSHOTS ?? join(tmpdir(), 'switchyard-console-screenshots')

function skipReason(): string | false {
  if (existsSync(CHROMIUM)) return false
  if (process.env.CI) throw new Error(`${CHROMIUM} is missing, and CI must run the browser tests (apt-get install -y chromium)`)
  return `${CHROMIUM} is not installed (apt-get install -y chromium)`
}
const skip = skipReason()

void describe('the console, in Chromium, against switchyard dev', { skip }, () => {
  let dir: string
  let dev: DevProcess
  let url: string
  let browser: Browser
  let page: Page
  const errors: string[] = []

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'switchyard-console-'))
    cpSync(join(REPO, 'examples/sales'), dir, { recursive: true, filter: (src) => !src.includes('.switchyard') })
    mkdirSync(join(dir, 'node_modules'))
    symlinkSync(REPO, join(dir, 'node_modules', 'switchyard-ai'))
    symlinkSync(join(REPO, 'node_modules', '@langchain'), join(dir, 'node_modules', '@langchain'))
    mkdirSync(join(dir, 'workflows', 'lab-fail'))
    writeFileSync(
      join(dir, 'workflows', 'lab-fail', 'graph.ts'),
      "export function graph() {\n  return () => {\n    throw new Error('the CRM answered 503 Service Unavailable for this lead three times in a row')\n  }\n}\n",
    )
    appendFileSync(
      join(dir, 'switchyard.yaml'),
      [
        '',
        '  lab.fail:',
        '    pool: lab',
        '    graph: workflows/lab-fail/graph.ts#graph',
        '    input: { type: object }',
        '    description: Always fails (a dead-lettered run for the console test).',
        '',
      ].join('\n'),
    )
    // hold.wait keeps its pool's one slot until it is cancelled (or for a minute).
    mkdirSync(join(dir, 'workflows', 'hold-wait'))
    writeFileSync(
      join(dir, 'workflows', 'hold-wait', 'graph.ts'),
      [
        "import type { RunContext } from 'switchyard-ai/graph'",
        'export function graph() {',
        '  return (_input: unknown, run: RunContext) =>',
        '    new Promise((resolve, reject) => {',
        '      const timer = setTimeout(() => resolve({ held: true }), 60_000)',
        "      run.signal.addEventListener('abort', () => (clearTimeout(timer), reject(run.signal.reason as Error)), { once: true })",
        '    })',
        '}',
        'export function echo() {',
        '  return (input: unknown) => ({ echoed: input })',
        '}',
        '',
      ].join('\n'),
    )
    appendFileSync(
      join(dir, 'switchyard.yaml'),
      [
        '  hold.wait:',
        '    pool: hold',
        '    graph: workflows/hold-wait/graph.ts#graph',
        '    input: { type: object }',
        '    description: Holds its pool until cancelled (a running and a queued run for the console test).',
        '  quiet.echo:',
        '    pool: quiet',
        '    graph: workflows/hold-wait/graph.ts#echo',
        '    input: { type: object }',
        '    description: Echoes its input, never traced.',
        '',
      ].join('\n'),
    )
    // The pools section is first in the file: a new pool goes in before `workflows:`.
    const yaml = (await import('node:fs')).readFileSync(join(dir, 'switchyard.yaml'), 'utf8')
    writeFileSync(
      join(dir, 'switchyard.yaml'),
      yaml.replace(
        '\nworkflows:\n',
        [
          '',
          '  lab:',
          '    retries: 0',
          '    tracing: { project: lab, sampleRate: 1.0, capture: full }',
          '  hold:',
          '    concurrency: 1',
          '    retries: 0',
          '    tracing: { project: hold, sampleRate: 1.0, capture: full }',
          '  quiet:',
          '    tracing: { project: quiet, sampleRate: 0.0, capture: full }',
          '',
          'workflows:',
          '',
        ].join('\n'),
      ),
    )
    dev = spawnDev(['--config', join(dir, 'switchyard.yaml'), '--port', '0'], dir, {
      SWITCHYARD_TOKENS: TOKEN,
      SWITCHYARD_SIGNING_KEY: '',
      OTEL_EXPORTER_OTLP_ENDPOINT: '',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: '',
    })
    url = await eventually('the gateway URL', () => /gateway (http:\/\/[\d.:]+)/.exec(dev.text)?.[1], 60_000)
    await eventually(
      'every node pool ready',
      async () => (await fetch(`${url}/readyz`)).status === 200 || /Python|python/.test(dev.text) || undefined,
      60_000,
    )
    mkdirSync(SHOTS, { recursive: true })
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    })
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } })
    page.on('pageerror', (error) => errors.push(`page error: ${error.message}`))
    // Nothing may load from anywhere but the gateway.
    page.on('request', (request) => {
      if (!request.url().startsWith(url) && !request.url().startsWith('data:')) errors.push(`request off the gateway: ${request.url()}`)
    })
    console.log(`# screenshots: ${SHOTS}`)
  })

  after(async () => {
    await browser?.close()
    const code = await dev?.stop()
    rmSync(dir, { recursive: true, force: true })
    assert.equal(code, 0, dev?.text)
  })

  /** Column headings cut by an ellipsis (a heading wider than its column). */
  const cutHeadings = (table: string) =>
    page.$$eval(`${table} thead th`, (ths) => ths.filter((th) => th.scrollWidth > th.clientWidth).map((th) => th.textContent ?? ''))
  const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true })
  const runVia = (workflow: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${url}/v1/workflows/${workflow}/run`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    })

  void test('the page loads without a token, asks for one, and every data call then carries it', async () => {
    const response = await page.goto(`${url}/`)
    assert.equal(response?.status(), 200)
    assert.match(response?.headers()['content-security-policy'] ?? '', /script-src 'self'/)
    await page.waitForSelector('#token-dialog[open]')
    assert.match((await page.textContent('#banner')) ?? '', /needs a bearer token/)
    await shot('01-token-asked')
    await page.fill('#token-input', TOKEN)
    await page.click('#token-save')
    await page.waitForSelector('#runs-body td.empty')
    assert.equal(await page.isVisible('#banner'), false)
    await shot('02-runs-empty')
  })

  void test('a 401 that arrives late neither wipes the token being typed nor asks again for the token just saved', async () => {
    // While the dialog is open the page keeps refreshing (Live), each call without a token
    // answered 401. One such answer is held back here until the token is typed, another
    // until just after it is saved: CI once saw a refresh wipe the typed token before Save.
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } })
    try {
      const late = await context.newPage()
      let hold: Promise<void> | null = null
      /** Hold back the answer to the next call sent without a token; the returned function lets it go. */
      const holdNext = () => {
        let release = () => undefined as void
        hold = new Promise<void>((resolve) => (release = resolve))
        return release
      }
      await late.route('**/v1/workflows', async (route) => {
        const held = (await route.request().headerValue('authorization')) === null ? hold : null
        if (held) hold = null
        const response = await route.fetch()
        if (held) await held
        await route.fulfill({ response })
      })
      const tokenless = () => late.waitForRequest((request) => request.url().endsWith('/v1/workflows') && !request.headers().authorization)
      const refused = () => late.waitForResponse((response) => response.url().endsWith('/v1/workflows') && response.status() === 401)
      /** Every listener of an answer has run once the page has painted twice since. */
      const settled = () => late.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))))

      await late.goto(`${url}/`)
      await late.waitForSelector('#token-dialog[open]')
      let release = holdNext()
      await tokenless()
      await late.fill('#token-input', TOKEN)
      let answered = refused()
      release()
      await answered
      await settled()
      assert.equal(await late.inputValue('#token-input'), TOKEN, 'a late 401 wiped the token being typed')

      release = holdNext()
      await tokenless()
      await late.click('#token-save')
      await late.waitForSelector('#runs-body td.empty, #runs-body tr[data-run-id]')
      answered = refused()
      release()
      await answered
      await settled()
      assert.equal(await late.isVisible('#token-dialog[open]'), false, 'a late 401 to no token asked again for the token just saved')
      assert.equal(await late.isVisible('#banner'), false, (await late.textContent('#banner')) ?? '')
    } finally {
      await context.close()
    }
  })

  void test('a run submitted from the generated form opens with a waterfall of gateway and worker spans', async () => {
    await page.goto(`${url}/#/workflows/email.compose`)
    await page.waitForSelector('#run-form')
    // The form follows the input schema: nested lead fields, required marks, the enum as a select.
    assert.equal(await page.locator('[data-pointer="/lead/name"] .required').count(), 1)
    assert.equal(await page.locator('[data-pointer="/tone"] select').count(), 1)
    await page.fill('[data-pointer="/lead/name"] input', 'Ada Lindqvist')
    await page.fill('[data-pointer="/lead/company"] input', 'Fjordline Logistics')
    await page.fill('[data-pointer="/lead/email"] input', 'ada.lindqvist@fjordline.no')
    await page.fill('[data-pointer="/lead/recentNews"] input', 'opened a second warehouse in Gothenburg')
    await page.fill('[data-pointer="/lead/notes"] textarea', 'inbound leads wait two days for a first reply\nuses HubSpot')
    await shot('03-workflow-form')
    await page.click('#run-submit')
    await page.waitForURL(/#\/runs\/[\w-]+$/)
    await page.waitForSelector('.badge.succeeded', { timeout: 60_000 })
    await page.waitForSelector('.wf-row[data-name="run email.compose"]', { timeout: 30_000 })
    await page.waitForSelector('.wf-row[data-name^="node "]', { timeout: 30_000 })
    const rows = await page.$$eval('.wf-row', (els) =>
      els.map((el) => `${(el as HTMLElement).dataset.service} ${(el as HTMLElement).dataset.name}`),
    )
    assert.ok(rows.includes('switchyard-gateway POST /v1/workflows/{name}/run'), rows.join('\n'))
    assert.ok(rows.includes('switchyard-gateway enqueue email'), rows.join('\n'))
    assert.ok(rows.includes('switchyard-pool-email run email.compose'), rows.join('\n'))
    assert.ok(
      rows.some((r) => r.startsWith('switchyard-pool-email chat ')),
      rows.join('\n'),
    )
    // Bars sit on one time axis: the worker's run starts once it was enqueued, its nodes within it.
    const bar = (name: string) => page.locator(`.wf-row[data-name="${name}"] .wf-bar`).first().boundingBox()
    const [enqueue, run, node] = await Promise.all([bar('enqueue email'), bar('run email.compose'), bar('node gather')])
    assert.ok(enqueue && run && node, 'bars drawn')
    assert.ok(run.x >= enqueue.x, `run at ${run.x}, enqueued at ${enqueue.x}`)
    assert.ok(node.x >= run.x && node.x + node.width <= run.x + run.width + 1, 'a node within its run')
    // Input, output, prompt hash and registry digest are on the page.
    assert.match((await page.textContent('#input')) ?? '', /Fjordline Logistics/)
    assert.match((await page.textContent('#output')) ?? '', /"subject"/)
    assert.match((await page.textContent('#prompt-hash')) ?? '', /^sha256:[0-9a-f]{12}…$/)
    assert.match((await page.textContent('#registry-digest')) ?? '', /^sha256:[0-9a-f]{12}…$/)
    assert.match(
      await page.inputValue('#run-command'),
      /^npx switchyard run email\.compose --input '\{"lead":.*' --url http:\/\/127\.0\.0\.1:\d+ --trace$/,
    )
    // The attributes panel (not a tooltip) shows the selected span: the model call's messages.
    await page.click('.wf-row[data-name^="chat "]')
    await page.waitForSelector('#span-panel tr[data-key="gen_ai.input.messages"]')
    assert.match((await page.textContent('#span-panel tr[data-key="gen_ai.input.messages"]')) ?? '', /"role": "user"/)
    assert.match((await page.textContent('#span-panel')) ?? '', /switchyard-pool-email/)
    await shot('04-run-waterfall')
  })

  void test('Retry resubmits the same input as a new run; the runs list shows both, and a dead-lettered one', async () => {
    const first = page.url()
    await page.click('#retry')
    await page.waitForURL((u) => /#\/runs\/[\w-]+$/.test(u.toString()) && u.toString() !== first)
    await page.waitForSelector('.badge.succeeded', { timeout: 60_000 })
    assert.match((await page.textContent('#input')) ?? '', /Ada Lindqvist/)
    const failed = await runVia('lab.fail', {})
    assert.equal(failed.status, 502)
    await page.goto(`${url}/#/runs`)
    await page.waitForSelector('#runs-body tr[data-run-id]')
    await eventually('three runs listed', async () => ((await page.locator('#runs-body tr[data-run-id]').count()) >= 3 ? true : undefined))
    assert.match((await page.textContent('#runs-body')) ?? '', /dead-lettered/)
    assert.match((await page.textContent('#runs-body')) ?? '', /→/, 'tokens of the traced runs')
    await shot('05-runs')
  })

  void test('the runs page lists every run: running, queued, untraced, dead-lettered; Cancel ends the running and the queued one', async () => {
    const started = async (workflow: string, headers: Record<string, string>) => {
      const response = await runVia(workflow, {}, headers)
      const runId = response.headers.get('x-switchyard-run-id') ?? ''
      assert.ok(runId, `${workflow}: ${response.status} ${await response.text()}`)
      return { status: response.status, runId }
    }
    const running = await started('hold.wait', { prefer: 'respond-async' })
    assert.equal(running.status, 202)
    await eventually('the hold pool running its one run', async () => {
      const view = (await (await fetch(`${url}/v1/runs/${running.runId}`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as {
        status: string
      }
      return view.status === 'running' || undefined
    })
    const queued = await started('hold.wait', { prefer: 'respond-async' })
    const untraced = await started('quiet.echo', {})
    assert.equal(untraced.status, 200)

    await page.goto(`${url}/#/runs`)
    const cells = async (runId: string) => {
      const row = page.locator(`#runs-body tr[data-run-id="${runId}"]`)
      return (await row.count()) ? await row.locator('td').allTextContents() : []
    }
    // Live refresh brings every run in; the columns: when, workflow, pool, status, attempts, duration, tokens, cost, trace.
    await eventually('the four kinds of run listed', async () => {
      const [a, b, c] = await Promise.all([cells(running.runId), cells(queued.runId), cells(untraced.runId)])
      return a[3]?.startsWith('running') && b[3]?.startsWith('queued') && c[3]?.startsWith('succeeded') ? true : undefined
    })
    assert.equal((await cells(untraced.runId))[8], '—', 'an untraced run says so in the trace column')
    assert.equal((await cells(untraced.runId))[6], '—', 'no tokens without a trace')
    assert.match((await page.textContent('#runs-body')) ?? '', /dead-lettered/)
    await shot('06-runs-every-status')

    // Cancel from each run's page: the queued run at once, the running one once its graph saw the abort.
    for (const { runId } of [queued, running]) {
      await page.goto(`${url}/#/runs/${runId}`)
      await page.waitForSelector('#cancel:not([disabled])')
      await page.click('#cancel')
      await page.waitForSelector('.badge.cancelled', { timeout: 30_000 })
    }
    assert.match((await page.textContent('#error')) ?? '', /CANCELLED/)
    // The worker's run span, ended by the cancel as an error, joins the trace (live refresh).
    await page.waitForSelector('.wf-row[data-name="run hold.wait"][data-service="switchyard-pool-hold"]', { timeout: 30_000 })
    await shot('07-run-cancelled')
  })

  void test('no layout bug: at a narrow width a long status is cut, and every cell stays under its column', async () => {
    await page.setViewportSize({ width: 1100, height: 800 })
    await page.goto(`${url}/#/runs`)
    await page.waitForSelector('#runs-body tr[data-run-id]')
    const geometry = await page.evaluate(() => {
      const table = document.getElementById('runs-table') as HTMLTableElement
      const heads = Array.from(table.tHead!.rows[0]!.cells).map((c) => c.getBoundingClientRect())
      const bad: string[] = []
      for (const row of Array.from(table.tBodies[0]!.rows)) {
        Array.from(row.cells).forEach((cell, i) => {
          const box = cell.getBoundingClientRect()
          const head = heads[i]!
          if (Math.abs(box.left - head.left) > 1 || Math.abs(box.right - head.right) > 1) bad.push(`row ${row.dataset.runId} column ${i}`)
          if (cell.scrollHeight > cell.clientHeight + 2) bad.push(`row ${row.dataset.runId} column ${i} wraps`)
        })
      }
      const statusCells = Array.from(table.querySelectorAll<HTMLElement>('td.status-cell'))
      return {
        bad,
        cut: statusCells.some(
          (c) =>
            c.scrollWidth > c.clientWidth ||
            (c.firstElementChild as HTMLElement).scrollWidth > (c.firstElementChild as HTMLElement).clientWidth,
        ),
      }
    })
    assert.deepEqual(geometry.bad, [])
    assert.deepEqual(await cutHeadings('#runs-table'), [], 'every heading whole')
    await shot('08-runs-narrow')
    await page.setViewportSize({ width: 1400, height: 900 })
  })

  void test('Pools shows workers, in-flight and queued runs, rates, p50/p95, sampling and project', async () => {
    await page.goto(`${url}/#/pools`)
    await page.waitForSelector('#pools-body tr[data-pool="email"]')
    const email = (await page.textContent('#pools-body tr[data-pool="email"]')) ?? ''
    assert.match(email, /sales-email/)
    assert.match(email, /100%/)
    const cells = await page.$$eval('#pools-body tr[data-pool="email"] td', (tds) => tds.map((td) => td.textContent ?? ''))
    assert.equal(cells[2], '1', 'one worker')
    assert.match(cells[5] ?? '', /^100% \(2\)$/, 'two succeeded')
    assert.match(cells[7] ?? '', /(ms|s)$/, 'p50')
    const lab = await page.$$eval('#pools-body tr[data-pool="lab"] td', (tds) => tds.map((td) => td.textContent ?? ''))
    assert.match(lab[6] ?? '', /^100% \(1\)$/, 'the lab pool failed its one run')
    assert.match((await page.textContent('#pools-body tr[data-pool="classify"]')) ?? '', /10\.0%.*redacted.*sales-classify/)
    assert.deepEqual(await cutHeadings('#pools-table'), [], 'every heading whole')
    // The hold pool's two cancelled runs are in neither rate: the cells say where they went.
    assert.equal(
      await page.getAttribute('#pools-body tr[data-pool="hold"] td:nth-child(6)', 'title'),
      '2 finished: 0 succeeded, 0 failed, 2 cancelled',
    )
    await shot('09-pools')
  })

  void test('Workflows lists the registry with its schemas', async () => {
    await page.goto(`${url}/#/workflows`)
    await page.waitForSelector('#workflow-list a[data-workflow="classify.country"]')
    await page.click('#workflow-list a[data-workflow="classify.country"]')
    await page.waitForSelector('#run-form')
    await page.click('#input-schema summary')
    assert.match((await page.textContent('#input-schema')) ?? '', /"properties"/)
    await shot('10-workflows')
  })

  void test('no page error and no request off the gateway on any page', () => {
    assert.deepEqual(errors, [])
  })
})
