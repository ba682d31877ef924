import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { loadPrompt, parsePrompt, promptVariables } from '../../src/graph/index.js'

void describe('loadPrompt', () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-prompt-'))
  after(() => rmSync(dir, { recursive: true, force: true }))

  void it('reads front matter as model parameters and hashes the file bytes', () => {
    const source = '---\ntemperature: 0.3\nmaxTokens: 400\nstyle: brief\n---\nWrite to {{lead.name}} at {{company}}.\n'
    const path = join(dir, 'prompt.md')
    writeFileSync(path, source)
    const prompt = loadPrompt(path)
    assert.deepEqual(prompt.params, { temperature: 0.3, maxTokens: 400, style: 'brief' })
    assert.equal(prompt.text, 'Write to {{lead.name}} at {{company}}.\n')
    assert.equal(prompt.hash, `sha256:${createHash('sha256').update(source).digest('hex')}`)
    assert.equal(prompt.render({ lead: { name: 'Ada' }, company: 'Acme' }), 'Write to Ada at Acme.\n')
  })

  void it('names every missing variable', () => {
    const prompt = parsePrompt('Hi {{name}}, about {{ topic }} and {{name}}', '/p/prompt.md')
    assert.deepEqual(promptVariables(prompt.text), ['name', 'topic'])
    assert.throws(() => prompt.render({ name: 'Ada' }), {
      code: 'PROMPT_VARIABLE_MISSING',
      message: 'prompt /p/prompt.md needs {{topic}} but no value was given',
    })
  })

  void it('renders lists and objects readably', () => {
    const prompt = parsePrompt('{{tags}} / {{facts}}')
    assert.equal(prompt.render({ tags: ['a', 'b'], facts: { x: 1 } }), 'a, b / {\n  "x": 1\n}')
  })

  void it('a missing file is PROMPT_NOT_FOUND', () => {
    assert.throws(() => loadPrompt(join(dir, 'nope.md')), { code: 'PROMPT_NOT_FOUND' })
  })

  void it('a prompt without front matter has no params', () => {
    assert.deepEqual(parsePrompt('plain').params, {})
  })
})
