// Small DOM and formatting helpers the console's views share. No framework: elements are
// built with h(), text always goes in as text nodes (never as HTML), so nothing a run's
// input or a span's attribute holds can become markup.

/**
 * Build an element. Props starting with `on` are listeners; `class`, `style` and
 * `dataset` are set as such; anything else is an attribute (false/null/undefined: left out).
 * @param {string} tag
 * @param {Record<string, unknown>} [props]
 * @param {...(Node | string | number | null | undefined | false | Array<Node | string>)} children
 * @returns {HTMLElement}
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag)
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2).toLowerCase(), value)
    else if (key === 'class') el.className = String(value)
    else if (key === 'dataset') Object.assign(el.dataset, value)
    else if (key === 'style' && typeof value === 'object') Object.assign(el.style, value)
    else if (key === 'value') el.value = value
    else if (key === 'checked') el.checked = Boolean(value)
    else el.setAttribute(key, value === true ? '' : String(value))
  }
  append(el, children)
  return el
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue
    if (Array.isArray(child)) append(el, child)
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)))
  }
}

/** Milliseconds as a reader wants them: 850 µs, 12.3 ms, 1.42 s, 2m05s. */
export function ms(value) {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—'
  if (value < 1) return `${Math.round(value * 1000)} µs`
  if (value < 1000) return `${value.toFixed(1)} ms`
  if (value < 60_000) return `${(value / 1000).toFixed(2)} s`
  const s = Math.round((value % 60_000) / 1000)
  return `${Math.floor(value / 60_000)}m${String(s).padStart(2, '0')}s`
}

export function cost(usd) {
  if (usd === null || usd === undefined) return '—'
  return `$${usd.toFixed(usd >= 0.01 ? 4 : 6)}`
}

export function percent(rate) {
  return rate === null || rate === undefined ? '—' : `${(rate * 100).toFixed(rate === 0 || rate === 1 ? 0 : 1)}%`
}

/** A local time of day for an ISO date or epoch ms; the full date in `title` where it is shown. */
export function clock(when) {
  if (when === null || when === undefined) return '—'
  const date = new Date(when)
  return date.toLocaleTimeString([], { hour12: false }) + '.' + String(date.getMilliseconds()).padStart(3, '0')
}

export function iso(when) {
  return when === null || when === undefined ? '' : new Date(when).toISOString()
}

/** A status badge: queued, running, succeeded, failed, cancelled (and not traced, kept, …). */
export function badge(status, extra) {
  return h('span', { class: `badge ${status}` }, status, extra ? h('span', { class: 'badge-extra' }, ` · ${extra}`) : null)
}

/** JSON, indented, as text in a <pre>; a JSON string inside is shown parsed when it parses. */
export function jsonBlock(value, label) {
  return h('pre', { class: 'json', 'aria-label': label }, pretty(value))
}

export function pretty(value) {
  if (typeof value === 'string') {
    const trimmed = value.trim()
    if ((trimmed.startsWith('{') && trimmed.endsWith('}')) || (trimmed.startsWith('[') && trimmed.endsWith(']'))) {
      try {
        return JSON.stringify(JSON.parse(trimmed), null, 2)
      } catch {
        // Not JSON after all (or cut short by the capture bound): shown as it is.
      }
    }
    return value
  }
  return JSON.stringify(value, null, 2) ?? String(value)
}

/** Copy text to the clipboard; resolves false when the browser does not allow it. */
export async function copy(text) {
  try {
    await navigator.clipboard.writeText(text)
    return true
  } catch {
    return false
  }
}

/** A stable colour per service, so a service keeps its colour across traces. */
export function serviceColour(service) {
  let hash = 0
  for (const char of service) hash = (hash * 31 + char.charCodeAt(0)) | 0
  const palette = ['#4f6bed', '#0f9d8a', '#c77d12', '#8e44ad', '#2d7fb8', '#b4507a', '#5b8c2a', '#7a6a58']
  return palette[Math.abs(hash) % palette.length]
}

/** A shell word: as it is when it is plain, else single-quoted. */
export function shellQuote(word) {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`
}
