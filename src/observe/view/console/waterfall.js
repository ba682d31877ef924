// A run tree (GET /v1/traces/{traceId}'s `tree`) as a waterfall on one time axis: one row
// per span, indented under its parent, a bar from its start to its end; rows are buttons,
// and the selected span's attributes, events and status show in a panel beside it.
import { badge, h, ms, pretty, serviceColour } from './dom.js'

const TICKS = 5

/**
 * @param {object} tree the run tree
 * @param {{ selected?: string, onSelect(spanId: string): void }} options
 */
export function waterfall(tree, options) {
  const total = Math.max(tree.durationMs, 0.001)
  const rows = []
  const walk = (node, depth, parentService) => {
    rows.push({ node, depth, showService: node.service !== parentService })
    for (const child of node.children) walk(child, depth + 1, node.service)
  }
  for (const root of tree.roots) walk(root, 0, undefined)

  const axis = h(
    'div',
    { class: 'wf-axis', 'aria-hidden': 'true' },
    h('div', { class: 'wf-label' }, 'span'),
    h(
      'div',
      { class: 'wf-lane' },
      Array.from({ length: TICKS + 1 }, (_, i) => {
        const at = (i / TICKS) * 100
        return h('span', { class: `wf-tick${i === TICKS ? ' last' : ''}`, style: { left: `${at}%` } }, ms((total * i) / TICKS))
      }),
    ),
  )
  const list = h(
    'div',
    { class: 'wf-rows', role: 'listbox', 'aria-label': 'spans' },
    rows.map(({ node, depth, showService }) => {
      const left = ((node.start - tree.start) / total) * 100
      const width = Math.max((node.durationMs / total) * 100, 0.2)
      const selected = node.spanId === options.selected
      const colour = node.status === 'error' ? '#d64545' : serviceColour(node.service)
      return h(
        'div',
        {
          class: `wf-row${selected ? ' selected' : ''}${node.status === 'error' ? ' error' : ''}`,
          role: 'option',
          tabindex: 0,
          'aria-selected': selected ? 'true' : 'false',
          dataset: { spanId: node.spanId, name: node.name, service: node.service },
          onclick: () => options.onSelect(node.spanId),
          onkeydown: (event) => {
            if (event.key === 'Enter' || event.key === ' ') {
              event.preventDefault()
              options.onSelect(node.spanId)
            }
          },
        },
        h(
          'div',
          { class: 'wf-label', style: { paddingLeft: `${8 + depth * 14}px` }, title: `${node.name} (${node.service})` },
          h('span', { class: 'wf-name' }, node.name),
          showService ? h('span', { class: 'wf-service', style: { color: serviceColour(node.service) } }, node.service) : null,
        ),
        h(
          'div',
          { class: 'wf-lane' },
          h('div', { class: 'wf-bar', style: { left: `${Math.min(left, 99.8)}%`, width: `${width}%`, background: colour } }),
          h(
            'span',
            { class: 'wf-time', style: left + width > 80 ? { right: `${100 - left + 0.5}%` } : { left: `${left + width + 0.5}%` } },
            ms(node.durationMs),
          ),
        ),
      )
    }),
  )
  return h('div', { class: 'waterfall', id: 'waterfall' }, axis, list)
}

/** Every node of the tree by span id. */
export function nodesById(tree) {
  const byId = new Map()
  const walk = (node) => {
    byId.set(node.spanId, node)
    for (const child of node.children) walk(child)
  }
  for (const root of tree.roots) walk(root)
  return byId
}

/** The attributes panel of one span (and its events, from the stored span). */
export function spanPanel(node, stored, tree) {
  if (!node)
    return h('aside', { class: 'span-panel empty', id: 'span-panel' }, h('p', { class: 'muted' }, 'Select a span to see its attributes.'))
  const keys = Object.keys(node.attributes).sort()
  const events = stored?.events ?? []
  return h(
    'aside',
    { class: 'span-panel', id: 'span-panel', 'aria-label': `attributes of ${node.name}` },
    h('h3', {}, node.name),
    h(
      'dl',
      { class: 'facts' },
      fact('service', node.service),
      fact('kind', node.kind),
      fact('status', badge(node.status === 'error' ? 'failed' : node.status === 'ok' ? 'succeeded' : 'unset', node.errorCode)),
      node.statusMessage ? fact('message', node.statusMessage) : null,
      fact('starts at', `+${ms(node.start - tree.start)}`),
      fact('duration', ms(node.durationMs)),
      fact('span id', h('code', {}, node.spanId)),
      node.parentSpanId ? fact('parent', h('code', {}, node.parentSpanId)) : null,
      fact('project', node.project),
    ),
    h('h4', {}, `Attributes (${keys.length})`),
    h(
      'table',
      { class: 'attrs' },
      h(
        'tbody',
        {},
        keys.map((key) => h('tr', { dataset: { key } }, h('th', { scope: 'row' }, key), h('td', {}, value(node.attributes[key])))),
      ),
    ),
    events.length
      ? [
          h('h4', {}, `Events (${events.length})`),
          h(
            'ul',
            { class: 'events' },
            events.map((event) =>
              h(
                'li',
                {},
                h('strong', {}, event.name),
                ` +${ms(event.time - tree.start)}`,
                Object.keys(event.attributes ?? {}).length ? h('pre', { class: 'json' }, pretty(event.attributes)) : null,
              ),
            ),
          ),
        ]
      : null,
  )
}

function fact(label, content) {
  return [h('dt', {}, label), h('dd', {}, content)]
}

function value(v) {
  const text = pretty(v)
  return text.includes('\n') || text.length > 80 ? h('pre', { class: 'json' }, text) : h('span', { class: 'mono' }, text)
}
