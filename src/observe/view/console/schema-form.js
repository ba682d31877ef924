// A form generated from a workflow's input JSON Schema: objects become fieldsets, strings
// text inputs (enums a select, long ones a text area), numbers and integers number inputs,
// booleans checkboxes, arrays of plain values one per line; anything else (unions,
// arrays of objects) a JSON text area. Optional fields left empty are left out, so the
// schema's defaults apply. The gateway validates; its 422 issues (JSON pointers) are shown
// beside the fields they name.
import { h } from './dom.js'

/**
 * @param {object} schema the workflow's input schema
 * @returns {{ element: HTMLElement, read(): unknown, showIssues(issues: Array<{path: string, message: string}>): void, clearIssues(): void }}
 */
export function schemaForm(schema) {
  const root = schema
  const resolve = (node) => {
    let current = node
    for (let hops = 0; current && typeof current.$ref === 'string' && hops < 16; hops++) {
      const match = /^#\/(?:\$defs|definitions)\/(.+)$/.exec(current.$ref)
      current = match ? (root.$defs ?? root.definitions ?? {})[decodeURIComponent(match[1])] : undefined
    }
    return current ?? {}
  }
  const top = field(resolve(schema), '', 'input', true, resolve)
  const general = h('ul', { class: 'issues', id: 'form-issues', hidden: true })
  const element = h('div', { class: 'schema-form' }, top.element, general)
  return {
    element,
    read: () => top.read().value ?? {},
    clearIssues() {
      for (const el of element.querySelectorAll('.field-issue')) el.remove()
      for (const el of element.querySelectorAll('.invalid')) el.classList.remove('invalid')
      general.replaceChildren()
      general.hidden = true
    },
    showIssues(issues) {
      this.clearIssues()
      for (const issue of issues) {
        const target = closestField(element, issue.path)
        if (target && issue.path !== '') {
          target.classList.add('invalid')
          target.append(h('p', { class: 'field-issue', role: 'alert' }, issue.message))
        } else {
          general.hidden = false
          general.append(h('li', {}, `${issue.path || '/'}: ${issue.message}`))
        }
      }
    },
  }
}

/** The field whose pointer is the issue's, or the nearest one above it. */
function closestField(element, pointer) {
  for (let path = pointer; ; path = path.slice(0, path.lastIndexOf('/'))) {
    const found = element.querySelector(`[data-pointer="${CSS.escape(path)}"]`)
    if (found) return found
    if (path === '') return null
  }
}

function typeOf(schema) {
  const types = Array.isArray(schema.type) ? schema.type.filter((t) => t !== 'null') : schema.type ? [schema.type] : []
  if (types.length === 1) return types[0]
  if (types.length === 0 && Array.isArray(schema.enum)) return 'enum'
  if (types.length === 0 && schema.properties) return 'object'
  return 'json'
}

function label(name, schema, required) {
  return h(
    'span',
    { class: 'field-label' },
    schema.title ?? name,
    required ? h('span', { class: 'required', title: 'required' }, ' *') : null,
  )
}

function hint(schema) {
  return schema.description ? h('span', { class: 'hint' }, schema.description) : null
}

/** One field: its element and how to read its value ({ present: false } leaves it out; `filled`: the user gave one). */
function field(schema, pointer, name, required, resolve) {
  const type = typeOf(schema)
  const id = `f${pointer.replace(/[^a-zA-Z0-9]/g, '-') || '-root'}`
  if (type === 'object' && schema.properties) return objectField(schema, pointer, name, required, resolve)
  if (type === 'boolean') {
    const input = h('input', { type: 'checkbox', id, checked: schema.default === true })
    return {
      element: h(
        'div',
        { class: 'field checkbox', dataset: { pointer } },
        h('label', { for: id }, input, ' ', label(name, schema, required)),
        hint(schema),
      ),
      read: () => ({
        present: required || input.checked || schema.default !== undefined,
        value: input.checked,
        filled: input.checked !== (schema.default === true),
      }),
    }
  }
  if (type === 'enum' || (type === 'string' && Array.isArray(schema.enum))) {
    const values = schema.enum
    const select = h(
      'select',
      { id },
      required && schema.default !== undefined ? null : h('option', { value: '' }, required ? 'choose…' : '(default)'),
      values.map((v, i) => h('option', { value: String(i) }, typeof v === 'string' ? v : JSON.stringify(v))),
    )
    if (schema.default !== undefined) select.value = String(values.findIndex((v) => JSON.stringify(v) === JSON.stringify(schema.default)))
    return wrap(select, {
      read: () =>
        select.value === '' ? { present: false, filled: false } : { present: true, value: values[Number(select.value)], filled: true },
    })
  }
  if (type === 'string') {
    const long = (schema.maxLength ?? 0) > 200 || schema.format === 'textarea'
    const inputType = { email: 'email', uri: 'url', date: 'date', 'date-time': 'datetime-local' }[schema.format] ?? 'text'
    const input = long
      ? h('textarea', { id, rows: 3 }, schema.default ?? '')
      : h('input', {
          id,
          type: inputType === 'datetime-local' ? 'text' : inputType,
          value: schema.default ?? '',
          placeholder: schema.format ?? '',
        })
    return wrap(input, {
      read: () =>
        input.value === '' && !required
          ? { present: false, filled: false }
          : { present: true, value: input.value, filled: input.value !== '' },
    })
  }
  if (type === 'number' || type === 'integer') {
    const input = h('input', {
      id,
      type: 'number',
      step: type === 'integer' ? '1' : 'any',
      min: schema.minimum,
      max: schema.maximum,
      value: schema.default ?? '',
    })
    return wrap(input, {
      read: () => (input.value === '' ? { present: false, filled: false } : { present: true, value: Number(input.value), filled: true }),
    })
  }
  if (type === 'array' && ['string', 'number', 'integer'].includes(typeOf(resolve(schema.items ?? {})))) {
    const itemType = typeOf(resolve(schema.items))
    const area = h('textarea', { id, rows: 3, placeholder: 'one per line' }, (schema.default ?? []).join('\n'))
    return wrap(area, {
      read: () => {
        const lines = area.value
          .split('\n')
          .map((l) => l.trim())
          .filter(Boolean)
        if (lines.length === 0 && !required) return { present: false, filled: false }
        return { present: true, value: itemType === 'string' ? lines : lines.map(Number), filled: lines.length > 0 }
      },
    })
  }
  // Anything the form cannot draw is edited as JSON, and sent as parsed.
  const area = h(
    'textarea',
    { id, rows: 4, class: 'mono', placeholder: 'JSON' },
    schema.default === undefined ? '' : JSON.stringify(schema.default, null, 2),
  )
  return wrap(area, {
    read: () => {
      if (area.value.trim() === '') return { present: false, filled: false }
      try {
        return { present: true, value: JSON.parse(area.value), filled: true }
      } catch (error) {
        throw new Error(`${pointer || '/'} is not valid JSON: ${error.message}`)
      }
    },
  })

  function wrap(control, reader) {
    return {
      element: h(
        'div',
        { class: 'field', dataset: { pointer } },
        h('label', { for: id }, label(name, schema, required)),
        control,
        hint(schema),
      ),
      ...reader,
    }
  }
}

function objectField(schema, pointer, name, required, resolve) {
  const requiredKeys = new Set(schema.required ?? [])
  const children = Object.entries(schema.properties).map(([key, child]) => ({
    key,
    field: field(resolve(child), `${pointer}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`, key, requiredKeys.has(key), resolve),
  }))
  const element = pointer
    ? h(
        'fieldset',
        { class: 'field group', dataset: { pointer } },
        h('legend', {}, label(name, schema, required)),
        hint(schema),
        children.map((c) => c.field.element),
      )
    : h(
        'div',
        { class: 'field root', dataset: { pointer } },
        children.map((c) => c.field.element),
      )
  return {
    element,
    read() {
      const value = {}
      let filled = false
      for (const { key, field: child } of children) {
        const read = child.read()
        if (read.present) value[key] = read.value
        filled ||= read.filled
      }
      // An optional object nobody filled in is left out (its required fields with it); the top level is always sent.
      if (pointer && !required && !filled) return { present: false, filled: false }
      return { present: true, value, filled }
    },
  }
}
