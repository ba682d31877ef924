// One run: its status and timings (GET /v1/runs/{id}), input as its pool's capture shows
// it, output or error, the registry digest and prompt hash, a `run` command to copy,
// Retry (the same input, resubmitted) and Cancel; then its trace as a waterfall on a time
// axis, with the selected span's attributes beside it. While the run is queued or
// running, or its spans are still arriving, the page follows it.
import { ApiError, call, get } from './api.js'
import { badge, clock, copy, cost, h, iso, jsonBlock, ms, shellQuote } from './dom.js'
import { nodesById, spanPanel, waterfall } from './waterfall.js'

const ACTIVE = new Set(['queued', 'running'])
/** How long after a run finished the page waits for the rest of its spans: three export batches (5 s each by default). */
const FOLLOW_MS = 15_000

export function runView(root, app, runId) {
  let run = null
  let trace = null
  let traceError = null
  let selected = null
  let stableTraces = 0
  let lastSpanCount = -1
  const header = h('div', { class: 'run-header' })
  const facts = h('dl', { class: 'facts run-facts' })
  const actions = h('div', { class: 'actions' })
  const command = h('div', { class: 'command' })
  const payload = h('div', { class: 'payload' })
  const traceSection = h('section', { class: 'trace', id: 'trace' })
  const note = h('p', { class: 'muted', id: 'action-note', role: 'status' })
  root.append(
    h(
      'section',
      { class: 'page run' },
      h('p', { class: 'crumbs' }, h('a', { href: '#/runs' }, '← Runs')),
      header,
      h('div', { class: 'run-top' }, facts, h('div', { class: 'run-side' }, actions, note, command)),
      payload,
      traceSection,
    ),
  )

  const view = {
    title: `run ${runId}`,
    live: true,
    async refresh() {
      run = await get(`/v1/runs/${encodeURIComponent(runId)}`)
      if (run.traceId) {
        try {
          trace = await get(`/v1/traces/${run.traceId}`)
          traceError = null
        } catch (error) {
          if (!(error instanceof ApiError) || error.status !== 404) throw error
          traceError = error
        }
      }
      const spanCount = trace?.tree.spanCount ?? 0
      stableTraces = spanCount === lastSpanCount ? stableTraces + 1 : 0
      lastSpanCount = spanCount
      // Follow the run until it finished and its trace is whole (the gateway names its gaps:
      // each process exports its spans in batches, seconds apart), at most FOLLOW_MS after
      // it finished (a queued run cancelled never gets a run span); then stop asking.
      const finishedAgo = run.finishedAt ? Date.now() - Date.parse(run.finishedAt) : 0
      const waiting = trace === null || trace.gaps?.length > 0
      view.live = ACTIVE.has(run.status) || (waiting && finishedAgo < FOLLOW_MS) || stableTraces < 2
      draw()
    },
  }

  function draw() {
    const runSpan = trace ? findRunSpan(trace.tree) : null
    header.replaceChildren(h('h1', {}, run.workflow, ' ', badge(run.status, run.error?.code)))
    if (run.deadLettered) header.append(h('span', { class: 'badge failed' }, 'dead-lettered'))
    facts.replaceChildren(
      ...fact('run id', h('code', { id: 'run-id' }, run.runId)),
      ...fact('trace id', run.traceId ? h('code', { id: 'trace-id' }, run.traceId) : '—'),
      ...fact('pool', run.pool),
      ...fact('attempts', `${run.attempts} of ${run.maxAttempts}`),
      ...fact('created', h('span', { title: run.createdAt }, clock(run.createdAt))),
      ...fact('started', h('span', { title: iso(run.startedAt) }, clock(run.startedAt))),
      ...fact('finished', h('span', { title: iso(run.finishedAt) }, clock(run.finishedAt))),
      ...fact('duration', ms(run.durationMs)),
      ...fact('deadline', h('span', { title: run.deadline }, clock(run.deadline))),
      ...fact(
        'registry',
        h(
          'code',
          { class: 'digest', id: 'registry-digest', title: run.registry ?? '' },
          short(run.registry ?? runSpan?.attributes['switchyard.registry']),
        ),
      ),
      ...fact(
        'prompt',
        h(
          'code',
          { class: 'digest', id: 'prompt-hash', title: String(runSpan?.attributes['switchyard.prompt.hash'] ?? '') },
          short(runSpan?.attributes['switchyard.prompt.hash']),
        ),
      ),
      ...(run.idempotencyKey ? fact('idempotency key', h('code', {}, run.idempotencyKey)) : []),
    )
    drawActions()
    drawPayload()
    drawTrace()
  }

  function drawActions() {
    const retryable = run.capture === 'full' && 'input' in run
    const cancellable = ACTIVE.has(run.status)
    actions.replaceChildren(
      h(
        'button',
        {
          type: 'button',
          id: 'retry',
          disabled: !retryable,
          title: retryable
            ? 'Run the same input again, as a new run'
            : 'Only a run whose input was kept in full can be run again from here',
          onclick: () => void retry(),
        },
        'Retry',
      ),
      h('button', { type: 'button', id: 'cancel', class: 'danger', disabled: !cancellable, onclick: () => void cancel() }, 'Cancel'),
    )
    const line = runCommand(run)
    command.replaceChildren(
      h('label', { for: 'run-command' }, 'Run it from a shell'),
      h(
        'div',
        { class: 'copy-row' },
        h('input', { id: 'run-command', readonly: true, value: line, onfocus: (e) => e.target.select() }),
        h(
          'button',
          {
            type: 'button',
            class: 'ghost',
            id: 'copy-command',
            onclick: async (event) => {
              const done = await copy(line)
              if (!done) document.getElementById('run-command').select()
              event.target.textContent = done ? 'Copied' : 'Press Ctrl+C'
            },
          },
          'Copy',
        ),
      ),
    )
  }

  async function retry() {
    note.textContent = 'Submitting the same input…'
    try {
      const { body } = await call(`/v1/workflows/${encodeURIComponent(run.workflow)}/run`, {
        method: 'POST',
        body: run.input,
        headers: { prefer: 'respond-async' },
      })
      app.navigate(`#/runs/${encodeURIComponent(body.runId)}`)
    } catch (error) {
      note.textContent = `Retry failed: ${error.code}: ${error.message}`
    }
  }

  async function cancel() {
    note.textContent = 'Cancelling…'
    try {
      await call(`/v1/runs/${encodeURIComponent(run.runId)}/cancel`, { method: 'POST' })
      note.textContent = 'Cancel requested.'
      await view.refresh()
    } catch (error) {
      note.textContent =
        error.status === 404 && error.code === 'NOT_FOUND'
          ? 'This gateway cannot cancel runs (no POST /v1/runs/{id}/cancel).'
          : `Cancel failed: ${error.code}: ${error.message}`
    }
  }

  function drawPayload() {
    const input =
      'input' in run
        ? [
            run.capture === 'redacted' ? h('p', { class: 'muted' }, 'Masked: this pool’s capture is redacted.') : null,
            jsonBlock(run.input, 'input'),
          ]
        : [h('p', { class: 'muted' }, run.capture === 'none' ? 'Not recorded: this pool’s capture is none.' : 'Not available.')]
    const result =
      run.status === 'succeeded'
        ? h('div', { class: 'panel', id: 'output' }, h('h2', {}, 'Output'), jsonBlock(run.output, 'output'))
        : run.error
          ? h(
              'div',
              { class: 'panel error', id: 'error' },
              h('h2', {}, 'Error'),
              h('p', {}, h('strong', {}, run.error.code), run.error.retryable ? ' (retryable)' : ''),
              h('pre', { class: 'json wrap' }, run.error.message),
            )
          : h('div', { class: 'panel', id: 'output' }, h('h2', {}, 'Output'), h('p', { class: 'muted' }, `The run is ${run.status}.`))
    payload.replaceChildren(h('div', { class: 'panel', id: 'input' }, h('h2', {}, 'Input'), ...input), result)
  }

  function drawTrace() {
    if (!run.traceId) {
      traceSection.replaceChildren(h('h2', {}, 'Trace'), h('p', { class: 'muted' }, 'This run has no trace id.'))
      return
    }
    if (trace === null) {
      const why = ACTIVE.has(run.status)
        ? 'Waiting for the run’s spans…'
        : 'No spans stored for this run: its pool did not sample it (tracing.sampleRate), its spans are not exported yet, or they expired.'
      traceSection.replaceChildren(h('h2', {}, 'Trace'), h('p', { class: 'muted', id: 'trace-missing' }, traceError ? why : 'Loading…'))
      return
    }
    const tree = trace.tree
    const byId = nodesById(tree)
    if (selected === null || !byId.has(selected)) selected = findRunSpan(tree)?.spanId ?? tree.roots[0]?.spanId ?? null
    const stored = new Map(trace.spans.map((s) => [s.spanId, s]))
    const t = tree.totals
    traceSection.replaceChildren(
      h('h2', {}, 'Trace'),
      h(
        'p',
        { class: 'muted', id: 'trace-summary' },
        [
          `${tree.spanCount} span${tree.spanCount === 1 ? '' : 's'}`,
          `${tree.services.length} service${tree.services.length === 1 ? '' : 's'} (${tree.services.join(', ')})`,
          ms(tree.durationMs),
          t.inputTokens || t.outputTokens ? `tokens ${t.inputTokens} in / ${t.outputTokens} out` : null,
          t.costUsd ? cost(t.costUsd) : null,
        ]
          .filter(Boolean)
          .join(' · '),
      ),
      view.live && trace.gaps?.length
        ? h('p', { class: 'muted', id: 'trace-gaps', role: 'status' }, `Spans still arriving: ${trace.gaps.join('; ')}`)
        : '',
      h(
        'div',
        { class: 'trace-grid' },
        waterfall(tree, {
          selected,
          onSelect(spanId) {
            selected = spanId
            drawTrace()
          },
        }),
        spanPanel(byId.get(selected), stored.get(selected), tree),
      ),
    )
  }

  return view
}

function fact(label, content) {
  return [h('dt', {}, label), h('dd', {}, content)]
}

function short(digest) {
  if (typeof digest !== 'string' || digest === '') return '—'
  const [algo, hex] = digest.includes(':') ? digest.split(':') : ['', digest]
  return `${algo ? `${algo}:` : ''}${hex.slice(0, 12)}…`
}

/** The worker's `run <workflow>` span, where the prompt hash and the registry digest are. */
function findRunSpan(tree) {
  const stack = [...tree.roots]
  for (let node = stack.pop(); node; node = stack.pop()) {
    if (node.name.startsWith('run ') && node.kind === 'consumer') return node
    stack.push(...node.children)
  }
  return null
}

/** `npx switchyard run <workflow> --input '<json>' --url <this gateway>`, written the way it runs. */
function runCommand(run) {
  const input = 'input' in run && run.capture === 'full' ? JSON.stringify(run.input) : null
  const parts = ['npx', 'switchyard', 'run', run.workflow, '--input', input === null ? '@input.json' : shellQuote(input)]
  if (location.origin !== 'http://127.0.0.1:7070') parts.push('--url', location.origin)
  return [...parts, '--trace'].join(' ')
}
