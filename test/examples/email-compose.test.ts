import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { graph } from '../../examples/sales/workflows/email-compose/graph.js'
import { checkDraft, unsupportedClaims } from '../../examples/sales/workflows/email-compose/drafting.js'
import type { Brief } from '../../examples/sales/workflows/email-compose/types.js'
import { createModel, OFFLINE_LABEL, runGraph } from '../../src/graph/index.js'
import { startChatServer } from '../graph/chat-server.js'
import { outputProblems, readJson, runFor, setupOf } from './workflow-kit.js'

const FOLDER = 'email-compose'
const example = readJson(FOLDER, 'example.json')

async function compose(input: unknown, model = createModel('offline')) {
  const run = runFor('email.compose', 'email', FOLDER, model)
  return runGraph(await graph(setupOf(run)), input, run)
}

void describe('email.compose', () => {
  void it('writes a checked, personal email from the example lead with the offline model, labelled offline', async () => {
    const out = await compose(example)
    assert.deepEqual(await outputProblems(FOLDER, out), [])
    assert.equal(out.model, 'offline')
    assert.ok(out.subject.startsWith(OFFLINE_LABEL), out.subject)
    assert.ok(out.body.startsWith(`${OFFLINE_LABEL} Hi Ada,`), out.body)
    assert.match(out.body, /Fjordline Logistics opened a second warehouse in Gothenburg/)
    assert.deepEqual(
      out.checks.map((c) => [c.name, c.passed]),
      [
        ['length', true],
        ['placeholders', true],
        ['claims', true],
        ['personalisation', true],
      ],
    )
    assert.equal(out.revisions, 0)
  })

  void it('offline, trims a draft that is too long in a revision, keeping greeting, ask and sign-off', async () => {
    const out = await compose({ ...(example as object), maxWords: 50 })
    assert.equal(out.revisions, 1)
    assert.ok(
      out.checks.every((c) => c.passed),
      JSON.stringify(out.checks),
    )
    assert.equal(
      out.body,
      [
        `${OFFLINE_LABEL} Hi Ada,`,
        'I saw that Fjordline Logistics opened a second warehouse in Gothenburg, congratulations.',
        'Northwind Relay routes every inbound lead to the right rep automatically.',
        'Would a 20-minute call next week be useful? If not, no worries at all.',
        'Best,\nSam Okafor\nAccount Executive',
      ].join('\n\n'),
    )
  })

  void it('is deterministic offline', async () => {
    assert.deepEqual(await compose(example), await compose(example))
  })

  void it('revises a draft that fails its checks, then stops (model on a local chat-completions server)', async () => {
    const bad = JSON.stringify({
      subject: 'Quick question',
      body: 'Hi [First Name],\n\nNorthwind Relay is the #1 tool and will cut your costs by 70%. Can we talk next week? It would be great to connect and show you around.\n\nBest,\nSam',
    })
    const good = JSON.stringify({
      subject: 'Gothenburg and faster lead replies',
      body: 'Hi Ada,\n\nCongratulations on the new Gothenburg warehouse at Fjordline Logistics. You mentioned inbound leads wait two days for a reply; Northwind Relay routes every inbound lead to the right rep automatically and connects to HubSpot in under an hour.\n\nWould a 20-minute call next week be useful?\n\nBest,\nSam Okafor',
    })
    const server = await startChatServer([{ content: bad }, { content: good }])
    try {
      const out = await compose(example, createModel(`openai-compatible:${server.baseURL}#local`, { env: {} }))
      assert.equal(out.revisions, 1)
      assert.ok(
        out.checks.every((c) => c.passed),
        JSON.stringify(out.checks),
      )
      assert.equal(out.model, 'openai-compatible:local')
      const revise = (server.requests[1]?.messages as Array<{ role: string; content: string }>).at(-1)?.content ?? ''
      assert.match(revise, /- placeholders: unfilled: \[First Name\]/)
      assert.match(revise, /- claims: not in the product facts: "Northwind Relay is the #1 tool and will cut your costs by 70%\."/)
    } finally {
      await server.close()
    }
  })

  void it('revises at most twice and reports the checks still failing', async () => {
    const bad = JSON.stringify({ subject: 'Hello', body: 'Hello [Name], we are the best. TODO add details.' })
    const server = await startChatServer([{ content: bad }, { content: bad }, { content: bad }])
    try {
      const out = await compose(example, createModel(`openai-compatible:${server.baseURL}#local`, { env: {} }))
      assert.equal(out.revisions, 2)
      assert.equal(server.requests.length, 3)
      assert.deepEqual(
        out.checks.filter((c) => !c.passed).map((c) => c.name),
        ['length', 'placeholders', 'claims', 'personalisation'],
      )
    } finally {
      await server.close()
    }
  })
})

void describe('email.compose checks', () => {
  const brief: Brief = {
    lead: { name: 'Ada Lindqvist', company: 'Fjordline Logistics', recentNews: 'opened a warehouse' },
    firstName: 'Ada',
    sender: { name: 'Sam' },
    product: { name: 'Relay', facts: ['cut response time by 38%'] },
    tone: 'friendly',
    maxWords: 150,
    hooks: ['opened a warehouse'],
  }

  void it('accepts numbers the facts back and the length of the ask, rejects the rest', () => {
    assert.deepEqual(unsupportedClaims('Relay cut response time by 38%. A 20-minute call? We are 3x faster.', brief), ['We are 3x faster.'])
  })

  void it('names what is missing', () => {
    const checks = checkDraft({ subject: '', body: 'Hello there {{company}}.' }, brief)
    assert.deepEqual(
      checks.filter((c) => !c.passed).map((c) => c.detail),
      [
        'body has 3 words, fewer than 40; subject is empty',
        'unfilled: {{company}}',
        'does not greet Ada by name; mentions nothing specific to Fjordline Logistics',
      ],
    )
  })
})
