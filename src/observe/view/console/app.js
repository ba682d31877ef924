// The console's shell: a hash router (#/runs, #/runs/<id>, #/pools, #/workflows[/<name>]),
// the token dialog, an error banner, and live refresh — the view on screen is asked to
// refresh itself every few seconds while "Live" is ticked (and never while the tab is hidden).
import { onUnauthorized, setToken, token } from './api.js'
import { poolsView } from './pools-view.js'
import { runView } from './run-view.js'
import { runsView } from './runs-view.js'
import { workflowsView } from './workflows-view.js'

const REFRESH_MS = 2000
const $ = (id) => document.getElementById(id)
const main = $('view')
const live = $('live')
const banner = $('banner')

/** What every view gets: where to draw, the query of its route, and a way to report errors. */
const app = {
  navigate(hash) {
    location.hash = hash
  },
  /** Show an error (or clear it with null) above the view. */
  report(error) {
    if (!error) {
      banner.hidden = true
      banner.textContent = ''
      return
    }
    if (error.status === 401) return // the token dialog says it
    banner.hidden = false
    banner.textContent = error.code ? `${error.code}: ${error.message}` : String(error.message ?? error)
  },
}

let current = null
let timer = null
let generation = 0

function parseRoute() {
  const raw = location.hash.replace(/^#/, '') || '/runs'
  const [path, search = ''] = raw.split('?')
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent)
  return { parts, query: new URLSearchParams(search) }
}

async function render() {
  const { parts, query } = parseRoute()
  const mine = ++generation
  current?.dispose?.()
  current = null
  app.report(null)
  clearTimeout(timer)
  for (const link of document.querySelectorAll('[data-nav]')) link.classList.toggle('active', link.dataset.nav === parts[0])
  const make =
    parts[0] === 'runs' && parts[1]
      ? () => runView(main, app, parts[1])
      : parts[0] === 'pools'
        ? () => poolsView(main, app)
        : parts[0] === 'workflows'
          ? () => workflowsView(main, app, parts[1], query)
          : () => runsView(main, app, query)
  main.replaceChildren()
  const view = make()
  current = view
  document.title = `Switchyard · ${view.title ?? parts[0] ?? 'runs'}`
  await refresh(view, mine)
}

async function refresh(view, mine) {
  try {
    await view.refresh()
    if (mine === generation) app.report(null)
  } catch (error) {
    if (mine === generation) app.report(error)
  }
  schedule(view, mine)
}

/** Refresh again in a while, when Live is ticked, the tab is visible and the view still wants it. */
function schedule(view, mine) {
  if (mine !== generation) return
  clearTimeout(timer)
  timer = setTimeout(() => {
    if (mine !== generation) return
    if (live.checked && !document.hidden && view.live !== false) void refresh(view, mine)
    else schedule(view, mine)
  }, REFRESH_MS)
}

// The token dialog: opened by the button, or by any 401.
const dialog = $('token-dialog')
const input = $('token-input')
function openTokenDialog() {
  // Already open: the user may be typing (the page's first calls each answer 401).
  if (dialog.open) return
  input.value = token()
  dialog.showModal()
  input.focus()
}
$('token-button').addEventListener('click', openTokenDialog)
$('token-form').addEventListener('submit', (event) => {
  event.preventDefault()
  setToken(input.value.trim())
  dialog.close()
  void render()
})
$('token-forget').addEventListener('click', () => {
  setToken('')
  input.value = ''
})
$('token-cancel').addEventListener('click', () => dialog.close())
onUnauthorized((error) => {
  banner.hidden = false
  banner.textContent = token()
    ? `This token was refused (${error.message}). Enter another one.`
    : 'This gateway needs a bearer token: enter one to see its runs.'
  openTokenDialog()
})

live.addEventListener('change', () => {
  if (live.checked && current) void refresh(current, generation)
})
window.addEventListener('hashchange', () => void render())
void render()
