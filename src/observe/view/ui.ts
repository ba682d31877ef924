// GET /: one self-contained page (no build step, no external assets) listing recent
// runs from GET /v1/traces and drawing a run's tree as a waterfall from
// GET /v1/traces/{traceId}. A bearer token, when the gateway needs one, is kept in
// the browser's localStorage and sent on each fetch.

export const UI_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Switchyard · runs</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #1d2433; background: #f6f7f9; }
  header { display: flex; gap: 12px; align-items: center; padding: 10px 16px; background: #1d2433; color: #fff; }
  header h1 { font-size: 16px; margin: 0 12px 0 0; }
  header input, header select, header button { font: inherit; padding: 3px 6px; }
  main { display: grid; grid-template-columns: minmax(380px, 40%) 1fr; gap: 12px; padding: 12px 16px; }
  table { width: 100%; border-collapse: collapse; background: #fff; }
  th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #e3e6eb; white-space: nowrap; }
  tbody tr { cursor: pointer; } tbody tr:hover, tr.sel { background: #eef3ff; }
  .failed, .error { color: #c62828; } .succeeded, .ok { color: #2e7d32; }
  #tree { background: #fff; padding: 8px; min-height: 200px; overflow-x: auto; }
  .row { display: grid; grid-template-columns: 46% 1fr; align-items: center; min-height: 22px; border-bottom: 1px solid #f0f1f4; }
  .name { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
  .svc { color: #6b7385; font-size: 12px; margin-left: 6px; }
  .lane { position: relative; height: 14px; }
  .bar { position: absolute; height: 14px; background: #5c7cfa; border-radius: 2px; min-width: 2px; }
  .bar.error { background: #e57373; }
  .meta { color: #6b7385; font-size: 12px; margin: 4px 0 8px; }
  #empty { color: #6b7385; padding: 16px; }
</style>
</head>
<body>
<header>
  <h1>Switchyard runs</h1>
  <input id="pool" placeholder="pool" size="10">
  <input id="workflow" placeholder="workflow" size="16">
  <select id="status"><option value="">any status</option><option>succeeded</option><option>failed</option></select>
  <button id="refresh">Refresh</button>
  <input id="token" placeholder="bearer token (if required)" size="24" type="password">
</header>
<main>
  <section><table><thead><tr><th>started</th><th>workflow</th><th>pool</th><th>status</th><th>duration</th></tr></thead><tbody id="runs"></tbody></table><div id="empty"></div></section>
  <section id="tree"><div class="meta">Pick a run to see its trace.</div></section>
</main>
<script>
const $ = (id) => document.getElementById(id)
$('token').value = localStorage.getItem('switchyard.token') || ''
$('token').onchange = () => { localStorage.setItem('switchyard.token', $('token').value); load() }
const el = (tag, props = {}, ...children) => { const e = Object.assign(document.createElement(tag), props); e.append(...children); return e }
const ms = (v) => v < 1 ? (v * 1000).toFixed(0) + ' µs' : v < 1000 ? v.toFixed(1) + ' ms' : (v / 1000).toFixed(2) + ' s'
async function get(path) {
  const token = $('token').value
  const res = await fetch(path, { headers: token ? { authorization: 'Bearer ' + token } : {} })
  const body = await res.json().catch(() => ({}))
  if (!res.ok) throw new Error(body.detail || res.status + ' ' + res.statusText)
  return body
}
async function load() {
  const q = new URLSearchParams({ limit: '100' })
  for (const k of ['pool', 'workflow', 'status']) if ($(k).value) q.set(k, $(k).value)
  $('runs').replaceChildren(); $('empty').textContent = ''
  try {
    const { runs } = await get('/v1/traces?' + q)
    if (!runs.length) $('empty').textContent = 'No traced runs yet.'
    for (const run of runs) {
      const tr = el('tr', {}, el('td', {}, new Date(run.start).toLocaleTimeString()), el('td', {}, run.workflow), el('td', {}, run.pool || ''),
        el('td', { className: run.status }, run.status + (run.errorCode ? ' · ' + run.errorCode : '')), el('td', {}, ms(run.durationMs)))
      tr.onclick = () => { document.querySelectorAll('tr.sel').forEach((r) => r.classList.remove('sel')); tr.classList.add('sel'); show(run.traceId) }
      $('runs').append(tr)
    }
  } catch (e) { $('empty').textContent = String(e.message || e) }
}
async function show(traceId) {
  const box = $('tree')
  box.replaceChildren(el('div', { className: 'meta' }, 'loading ' + traceId + '…'))
  try {
    const { tree } = await get('/v1/traces/' + traceId)
    const t = tree.totals
    box.replaceChildren(el('div', { className: 'meta' }, 'trace ' + tree.traceId + ' · ' + tree.spanCount + ' spans · ' + tree.services.join(', ') + ' · ' + ms(tree.durationMs) +
      (t.inputTokens || t.outputTokens ? ' · tokens ' + t.inputTokens + ' in / ' + t.outputTokens + ' out' : '') + (t.costUsd ? ' · $' + t.costUsd.toFixed(6) : '')))
    const span = Math.max(tree.durationMs, 0.001)
    const draw = (node, depth, parentService) => {
      const label = el('div', { className: 'name', title: JSON.stringify(node.attributes, null, 1) }, '\\u00a0'.repeat(depth * 3) + node.name)
      if (node.service !== parentService) label.append(el('span', { className: 'svc' }, node.service))
      const extra = [ms(node.durationMs)]
      if (node.tokens) extra.push(node.tokens.input + '→' + node.tokens.output + ' tok')
      if (node.costUsd !== undefined) extra.push('$' + node.costUsd.toFixed(6))
      if (node.status === 'error') extra.push(node.errorCode || node.statusMessage || 'error')
      label.append(el('span', { className: 'svc' }, extra.join(' · ')))
      const bar = el('div', { className: 'bar' + (node.status === 'error' ? ' error' : '') })
      bar.style.left = ((node.start - tree.start) / span * 100) + '%'
      bar.style.width = (node.durationMs / span * 100) + '%'
      box.append(el('div', { className: 'row' }, label, el('div', { className: 'lane' }, bar)))
      for (const child of node.children) draw(child, depth + 1, node.service)
    }
    for (const root of tree.roots) draw(root, 0, undefined)
  } catch (e) { box.replaceChildren(el('div', { className: 'meta error' }, String(e.message || e))) }
}
$('refresh').onclick = load
load()
</script>
</body>
</html>
`
