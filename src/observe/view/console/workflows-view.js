// Workflows: the registry as callers see it (GET /v1/workflows) — names, pools,
// descriptions, input and output schemas — and, for the chosen workflow, a form generated
// from its input schema that submits a run (Prefer: respond-async) and opens it, trace and all.
import { call, get } from './api.js'
import { h, jsonBlock, ms } from './dom.js'
import { schemaForm } from './schema-form.js'

export function workflowsView(root, app, selectedName) {
  let workflows = null
  let registry = ''
  const list = h('nav', { class: 'wf-list', 'aria-label': 'workflows', id: 'workflow-list' })
  const detail = h('div', { class: 'wf-detail', id: 'workflow-detail' })
  const digest = h('span', { class: 'muted', id: 'registry-note' })
  root.append(
    h(
      'section',
      { class: 'page workflows' },
      h('div', { class: 'toolbar' }, h('h1', {}, 'Workflows'), digest),
      h('div', { class: 'split' }, list, detail),
    ),
  )

  function drawList() {
    list.replaceChildren(
      ...workflows.map((w) =>
        h(
          'a',
          {
            href: `#/workflows/${encodeURIComponent(w.name)}`,
            class: w.name === selectedName ? 'active' : '',
            dataset: { workflow: w.name },
          },
          h('strong', {}, w.name),
          h('span', { class: 'muted' }, ` ${w.pool}`),
          h('span', { class: 'desc' }, w.description),
        ),
      ),
    )
  }

  function drawDetail() {
    const workflow = workflows.find((w) => w.name === selectedName)
    if (!workflow) {
      detail.replaceChildren(
        h('p', { class: 'muted' }, workflows.length ? 'Pick a workflow to see its schemas and run it.' : 'The registry has no workflows.'),
      )
      return
    }
    const form = schemaForm(workflow.input)
    const raw = h('textarea', { id: 'raw-input', class: 'mono', rows: 12, hidden: true, 'aria-label': 'input as JSON' })
    const asJson = h('input', {
      type: 'checkbox',
      id: 'edit-json',
      onchange: () => {
        if (asJson.checked) {
          try {
            raw.value = JSON.stringify(form.read(), null, 2)
          } catch {
            raw.value = '{}'
          }
        }
        raw.hidden = !asJson.checked
        form.element.hidden = asJson.checked
      },
    })
    const status = h('p', { class: 'muted', id: 'submit-status', role: 'status' })
    const submit = async (event) => {
      event.preventDefault()
      form.clearIssues()
      let input
      try {
        input = asJson.checked ? JSON.parse(raw.value || '{}') : form.read()
      } catch (error) {
        status.textContent = error.message
        return
      }
      status.textContent = 'Submitting…'
      try {
        const { body } = await call(`/v1/workflows/${encodeURIComponent(workflow.name)}/run`, {
          method: 'POST',
          body: input,
          headers: { prefer: 'respond-async' },
        })
        app.navigate(`#/runs/${encodeURIComponent(body.runId)}`)
      } catch (error) {
        const issues = error.problem?.errors ?? []
        if (issues.length) form.showIssues(issues)
        status.textContent = `${error.code}: ${error.message}`
      }
    }
    detail.replaceChildren(
      h('h2', {}, workflow.name),
      h('p', {}, workflow.description),
      h('p', { class: 'muted' }, `pool ${workflow.pool} · deadline ${ms(workflow.timeoutMs)}`),
      h(
        'form',
        { id: 'run-form', class: 'run-form', onsubmit: submit, novalidate: true },
        form.element,
        raw,
        h(
          'div',
          { class: 'actions' },
          h('button', { type: 'submit', id: 'run-submit' }, `Run ${workflow.name}`),
          h('label', { class: 'inline' }, asJson, ' Edit as JSON'),
        ),
        status,
      ),
      h('details', { id: 'input-schema' }, h('summary', {}, 'Input schema'), jsonBlock(workflow.input, 'input schema')),
      h(
        'details',
        { id: 'output-schema' },
        h('summary', {}, 'Output schema'),
        workflow.output === null ? h('p', { class: 'muted' }, 'No output schema.') : jsonBlock(workflow.output, 'output schema'),
      ),
    )
  }

  return {
    title: selectedName ? `workflow ${selectedName}` : 'workflows',
    // The registry does not change under a running gateway: one read, and the form keeps what was typed.
    live: false,
    async refresh() {
      if (workflows !== null) return
      const body = await get('/v1/workflows')
      workflows = body.workflows
      registry = body.registry
      digest.textContent = `registry ${registry.slice(0, 19)}…`
      digest.title = registry
      drawList()
      drawDetail()
    },
  }
}
