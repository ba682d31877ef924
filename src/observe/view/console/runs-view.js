// Runs: every run the broker holds (GET /v1/runs) — traced or not, queued, running,
// finished, dead-lettered — newest first, with filters kept in the address (#/runs?pool=…).
// Tokens and cost come from the run's trace when it was kept (GET /v1/traces); an
// untraced run shows a dash there.
import { ApiError, get } from './api.js'
import { badge, clock, cost, h, iso, ms } from './dom.js'

const STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled']
const LIMITS = ['50', '100', '200', '500']

export function runsView(root, app, query) {
  const filter = {
    workflow: query.get('workflow') ?? '',
    pool: query.get('pool') ?? '',
    status: query.get('status') ?? '',
    limit: LIMITS.includes(query.get('limit') ?? '') ? query.get('limit') : '100',
  }
  let workflows = null
  const workflowSelect = h('select', { id: 'filter-workflow', 'aria-label': 'workflow' })
  const poolSelect = h('select', { id: 'filter-pool', 'aria-label': 'pool' })
  const statusSelect = h(
    'select',
    { id: 'filter-status', 'aria-label': 'status' },
    h('option', { value: '' }, 'any status'),
    STATUSES.map((s) => h('option', { value: s }, s)),
  )
  const limitSelect = h(
    'select',
    { id: 'filter-limit', 'aria-label': 'how many' },
    LIMITS.map((n) => h('option', { value: n }, `last ${n}`)),
  )
  statusSelect.value = filter.status
  limitSelect.value = filter.limit
  const body = h('tbody', { id: 'runs-body' })
  const count = h('span', { class: 'muted', id: 'runs-count' })
  const onFilter = () => {
    const q = new URLSearchParams()
    for (const [key, select] of [
      ['workflow', workflowSelect],
      ['pool', poolSelect],
      ['status', statusSelect],
      ['limit', limitSelect],
    ]) {
      if (select.value && !(key === 'limit' && select.value === '100')) q.set(key, select.value)
    }
    app.navigate(`#/runs${q.size ? `?${q}` : ''}`)
  }
  for (const select of [workflowSelect, poolSelect, statusSelect, limitSelect]) select.addEventListener('change', onFilter)

  root.append(
    h(
      'section',
      { class: 'page runs' },
      h('div', { class: 'toolbar' }, h('h1', {}, 'Runs'), workflowSelect, poolSelect, statusSelect, limitSelect, count),
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { class: 'grid', id: 'runs-table' },
          h(
            'colgroup',
            {},
            ['created', 'workflow', 'pool', 'status', 'attempts', 'duration', 'tokens', 'cost', 'trace'].map((c) =>
              h('col', { class: `c-${c}` }),
            ),
          ),
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              h('th', {}, 'Created'),
              h('th', {}, 'Workflow'),
              h('th', {}, 'Pool'),
              h('th', {}, 'Status'),
              h('th', { class: 'num' }, 'Attempts'),
              h('th', { class: 'num' }, 'Duration'),
              h('th', { class: 'num' }, 'Tokens'),
              h('th', { class: 'num' }, 'Cost'),
              h('th', {}, 'Trace'),
            ),
          ),
          body,
        ),
      ),
    ),
  )

  async function options() {
    if (workflows !== null) return
    workflows = (await get('/v1/workflows')).workflows
    const pools = [...new Set(workflows.map((w) => w.pool))].sort()
    workflowSelect.replaceChildren(
      h('option', { value: '' }, 'any workflow'),
      ...workflows.map((w) => h('option', { value: w.name }, w.name)),
    )
    poolSelect.replaceChildren(h('option', { value: '' }, 'any pool'), ...pools.map((p) => h('option', { value: p }, p)))
    workflowSelect.value = filter.workflow
    poolSelect.value = filter.pool
  }

  async function traced(limit) {
    const q = new URLSearchParams({ limit })
    if (filter.pool) q.set('pool', filter.pool)
    if (filter.workflow) q.set('workflow', filter.workflow)
    try {
      return (await get(`/v1/traces?${q}`)).runs
    } catch (error) {
      // A gateway that exports traces elsewhere has no store: runs still show, without tokens.
      if (error instanceof ApiError && error.status === 404) return []
      throw error
    }
  }

  return {
    title: 'runs',
    async refresh() {
      await options()
      const q = new URLSearchParams({ limit: filter.limit })
      for (const key of ['pool', 'workflow', 'status']) if (filter[key]) q.set(key, filter[key])
      const [{ runs }, summaries] = await Promise.all([get(`/v1/runs?${q}`), traced(filter.limit)])
      const byTrace = new Map(summaries.map((s) => [s.traceId, s]))
      count.textContent = `${runs.length} run${runs.length === 1 ? '' : 's'}`
      body.replaceChildren(
        ...(runs.length
          ? runs.map((run) => row(run, byTrace.get(run.traceId), app))
          : [h('tr', {}, h('td', { colspan: 9, class: 'empty' }, 'No runs match. Start one from Workflows.'))]),
      )
    },
  }
}

function row(run, trace, app) {
  const open = () => app.navigate(`#/runs/${encodeURIComponent(run.runId)}`)
  const detail = run.error?.code ?? ''
  const statusText = `${run.status}${detail ? ` · ${detail}` : ''}${run.deadLettered ? ' · dead-lettered' : ''}`
  return h(
    'tr',
    {
      class: 'link',
      tabindex: 0,
      dataset: { runId: run.runId },
      onclick: open,
      onkeydown: (event) => {
        if (event.key === 'Enter') open()
      },
    },
    h('td', { title: iso(run.createdAt) }, clock(run.createdAt)),
    h('td', { class: 'ellipsis', title: run.workflow }, h('a', { href: `#/runs/${encodeURIComponent(run.runId)}` }, run.workflow)),
    h('td', { class: 'ellipsis', title: run.pool }, run.pool),
    h(
      'td',
      { class: 'ellipsis status-cell', title: statusText },
      badge(run.status, [detail, run.deadLettered ? 'dead-lettered' : ''].filter(Boolean).join(' · ')),
    ),
    h('td', { class: 'num' }, `${run.attempts}/${run.maxAttempts}`),
    h('td', { class: 'num' }, ms(run.durationMs)),
    h(
      'td',
      { class: 'num', title: trace ? 'from the run’s trace' : 'not traced' },
      trace ? `${trace.tokens.input}→${trace.tokens.output}` : '—',
    ),
    h('td', { class: 'num' }, trace ? cost(trace.costUsd) : '—'),
    h(
      'td',
      {},
      trace
        ? h('span', { class: 'kept', title: run.traceId }, 'kept')
        : h('span', { class: 'muted', title: 'not sampled, or not exported yet' }, '—'),
    ),
  )
}
