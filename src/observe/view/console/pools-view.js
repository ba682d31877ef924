// Pools: each pool's workers, runs in flight and queued, how its recent runs went
// (success and failure rates, p50/p95 durations over the gateway's window) and its
// tracing settings (project, sampling rate, capture), from GET /v1/pools.
import { get } from './api.js'
import { h, ms, percent } from './dom.js'

export function poolsView(root) {
  const body = h('tbody', { id: 'pools-body' })
  const windowNote = h('span', { class: 'muted', id: 'pools-window' })
  root.append(
    h(
      'section',
      { class: 'page pools' },
      h('div', { class: 'toolbar' }, h('h1', {}, 'Pools'), windowNote),
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { class: 'grid', id: 'pools-table' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              [
                'Pool',
                'Runtime',
                'Workers',
                'In flight',
                'Queued',
                'Succeeded',
                'Failed',
                'p50',
                'p95',
                'Sampling',
                'Capture',
                'Project',
              ].map((label, i) => h('th', { class: i >= 2 && i <= 9 ? 'num' : undefined }, label)),
            ),
          ),
          body,
        ),
      ),
    ),
  )
  return {
    title: 'pools',
    async refresh() {
      const list = await get('/v1/pools')
      windowNote.textContent = `recent runs: the last ${list.windowMinutes} minutes`
      body.replaceChildren(
        ...list.pools.map((pool) => {
          const recent = pool.recent
          const rate = (value, count) => (value === null ? '—' : `${percent(value)} (${count})`)
          // Cancelled runs count among the finished but in neither rate: say so where the two rates do not add up.
          const finished = `${recent.finished} finished: ${recent.succeeded} succeeded, ${recent.failed} failed, ${recent.cancelled} cancelled`
          return h(
            'tr',
            { dataset: { pool: pool.name } },
            h('td', {}, h('a', { href: `#/runs?pool=${encodeURIComponent(pool.name)}` }, pool.name)),
            h('td', {}, pool.runtime),
            h(
              'td',
              { class: `num${pool.workers === 0 ? ' warn' : ''}`, title: pool.workers === 0 ? 'no worker serves this pool' : '' },
              pool.workers,
            ),
            h('td', { class: 'num' }, `${pool.inFlight}`),
            h('td', { class: 'num', title: `at most ${pool.maxQueued}` }, `${pool.queued}`),
            h('td', { class: 'num', title: finished }, rate(recent.successRate, recent.succeeded)),
            h('td', { class: `num${recent.failed ? ' bad' : ''}`, title: finished }, rate(recent.failureRate, recent.failed)),
            h('td', { class: 'num' }, ms(recent.p50Ms)),
            h('td', { class: 'num' }, ms(recent.p95Ms)),
            h('td', { class: 'num' }, percent(pool.sampleRate)),
            h('td', {}, pool.capture),
            h('td', { class: 'ellipsis', title: pool.project }, pool.project),
          )
        }),
      )
    },
  }
}
