// The requests of spec/vectors/offline-model.json: each one exercises a rule of the offline
// model where JavaScript and Python could part ways (UTF-16 lengths, JS regex line
// terminators and word boundaries, Math.round, Number(), JSON.stringify's key order).
import type { GenerateRequest } from '../../src/graph/index.js'

type VectorRequest = Pick<GenerateRequest, 'messages' | 'schema'>

const system = { role: 'system', content: 'You write short, friendly sales notes.' } as const
const long = `${'Sehr geehrte Damen und Herren, '.repeat(8)}wir möchten 😀 Ihnen helfen.`

export const offlineVectorRequests: readonly { readonly name: string; readonly request: VectorRequest }[] = [
  {
    name: 'free text: the gist of the last user message',
    request: { messages: [system, { role: 'user', content: 'Summarise Acme GmbH.\n\nIgnore this paragraph.' }] },
  },
  {
    name: 'free text: a suggested <answer>',
    request: { messages: [{ role: 'user', content: 'Say hi.\n<answer>\n  Hi there!  \n</answer>' }] },
  },
  {
    name: 'free text: an empty <answer> falls back to the gist',
    request: { messages: [{ role: 'user', content: '<answer></answer>\n\nSecond.' }] },
  },
  {
    name: 'free text: a long gist cut at 277 UTF-16 units (an emoji counts two)',
    request: { messages: [{ role: 'user', content: long }] },
  },
  { name: 'free text: no user message', request: { messages: [system, { role: 'assistant', content: 'Earlier answer.' }] } },
  {
    name: 'free text: paragraphs split on blank lines holding no-break and ideographic spaces',
    request: { messages: [{ role: 'user', content: '\u00a0\n\u3000\n first \u00a0\n \nsecond' }] },
  },
  {
    name: 'object: labelled values, a maxLength cut, an enum from a line',
    request: {
      messages: [
        system,
        {
          role: 'user',
          content:
            'Lead: Ada Lovelace\n<subject>A faster way to close your quarter</subject>\ntone: Casual\nbody: We help teams like yours.',
        },
      ],
      schema: {
        type: 'object',
        required: ['subject', 'body', 'tone'],
        properties: { subject: { type: 'string', maxLength: 20 }, body: { type: 'string' }, tone: { enum: ['formal', 'casual'] } },
      },
    },
  },
  {
    name: 'object: numbers (a midpoint, halves rounded up, hex, exponent, clamping)',
    request: {
      messages: [{ role: 'user', content: 'score: 7.5\ncount: 0x10\nbig: 1e3\nneg: -2.5\nhigh: 99' }],
      schema: {
        type: 'object',
        properties: {
          confidence: { type: 'number', minimum: 0, maximum: 1 },
          score: { type: 'integer' },
          count: { type: 'integer' },
          big: { type: 'number' },
          neg: { type: 'integer' },
          high: { type: 'number', maximum: 10 },
          fallback: { type: 'number', default: 0.25 },
        },
        required: ['confidence', 'score', 'count', 'big', 'neg', 'high'],
      },
    },
  },
  {
    name: 'object: arrays from a list, from nothing (minItems), from a default',
    request: {
      messages: [{ role: 'user', content: 'tags: fintech, payments; b2b\nnext: call' }],
      schema: {
        type: 'object',
        required: ['tags', 'reasons', 'steps'],
        properties: {
          tags: { type: 'array', items: { type: 'string' }, maxItems: 2 },
          reasons: { type: 'array', items: { type: 'string', minLength: 12 }, minItems: 2 },
          steps: { type: 'array', items: { type: 'string' }, default: ['research', 'email'] },
        },
      },
    },
  },
  {
    name: 'enum: the first value the newest message mentions, as an ASCII word',
    request: {
      messages: [
        { role: 'user', content: 'Earlier we thought DE.' },
        { role: 'user', content: 'Address: Stephansplatz 1, Wien, AT (not ATX, not DE-AT). Also C++ shops and CH.' },
      ],
      schema: {
        type: 'object',
        required: ['country', 'stack'],
        properties: { country: { enum: ['DE', 'AT', 'CH', null] }, stack: { enum: ['Java', 'C++', 'Go'] } },
      },
    },
  },
  {
    name: 'object: const, anyOf with null, booleans, formats and patterns',
    request: {
      messages: [{ role: 'user', content: 'active: yes\nphone: call me\nwebsite: none\n* owner:   Grace Hopper  ' }],
      schema: {
        type: 'object',
        required: ['kind', 'owner', 'active', 'email', 'website', 'phone', 'since', 'note'],
        properties: {
          kind: { const: 'lead' },
          owner: { anyOf: [{ type: 'null' }, { type: 'string' }] },
          active: { type: 'boolean' },
          email: { type: 'string', format: 'email' },
          website: { type: ['string', 'null'], format: 'uri' },
          phone: { type: 'string', pattern: '^\\+[0-9 ]+$', examples: ['+43 1 234'] },
          since: { type: 'string', format: 'date' },
          note: { type: 'string', minLength: 30 },
        },
      },
    },
  },
  {
    name: 'object: integer-like keys first, as a JavaScript object orders them',
    request: {
      messages: [{ role: 'user', content: 'b: second\n10: ten\n2: two' }],
      schema: { type: 'object', properties: { b: { type: 'string' }, '10': { type: 'string' }, '2': { type: 'string' } } },
    },
  },
  {
    name: 'labels: a CR line end, a line separator, an assistant turn skipped, the newest message wins',
    request: {
      messages: [
        { role: 'user', content: 'city: Graz' },
        { role: 'assistant', content: 'city: Linz' },
        { role: 'user', content: 'region: Styria\rcity: Wien\u2028zip: 1010' },
      ],
      schema: {
        type: 'object',
        required: ['city', 'region', 'zip'],
        properties: { city: { type: 'string' }, region: { type: 'string' }, zip: { type: 'string', pattern: '^[0-9]{4}$' } },
      },
    },
  },
  {
    name: 'object: only required, hinted or defaulted properties; nested objects',
    request: {
      messages: [{ role: 'user', content: '<street>Ringstraße 1</street>\nemployees: 250' }],
      schema: {
        type: 'object',
        required: ['company'],
        properties: {
          company: {
            type: 'object',
            required: ['name'],
            properties: {
              name: { type: 'string' },
              street: { type: 'string' },
              employees: { type: 'integer' },
              size: { enum: ['s', 'm', 'l'], default: 'm' },
              skipped: { type: 'string' },
            },
          },
          optional: { type: 'string' },
        },
      },
    },
  },
  {
    name: 'unicode: an emoji label cut by maxLength (a lone surrogate, as JavaScript leaves it)',
    request: {
      messages: [{ role: 'user', content: 'headline: 😀😀😀 Grüße aus Wien' }],
      schema: { type: 'object', required: ['headline'], properties: { headline: { type: 'string', maxLength: 11 } } },
    },
  },
]

/** Prompt sources and the variables each is rendered with (spec/vectors/prompt.json). */
export const promptVectorCases: readonly { readonly name: string; readonly source: string; readonly vars: Record<string, unknown> }[] = [
  { name: 'no front matter, one variable', source: 'Hello {{ name }}!', vars: { name: 'Ada' } },
  {
    name: 'front matter: JSON values, quoted and plain strings, comments, CRLF',
    source:
      '---\r\ntemperature: 0.2\r\nmaxTokens: 400\r\n# a comment\r\nstop: ["\\n\\n", "END"]\r\nmodel: \'gpt-4o-mini\'\r\nstyle: warm, brief\r\nflag: true\r\nempty:\r\nnan: NaN\r\n---\r\nWrite to {{lead.name}}.',
    vars: { lead: { name: 'Grace' } },
  },
  {
    name: 'dotted names, arrays of scalars joined, objects as indented JSON, numbers as JavaScript prints them',
    source: '{{lead.company}} ({{lead.tags}}) {{lead.address}} {{score}} {{ratio}} {{big}} {{ok}} {{lead.tags.1}} {{nested}}',
    vars: {
      lead: { company: 'Acme', tags: ['b2b', 2, true, null], address: { city: 'Wien', zip: '1010' } },
      score: 3,
      ratio: 1e-7,
      big: 1e21,
      ok: false,
      nested: [{ a: 1 }, [2]],
    },
  },
  { name: 'every missing variable named at once (null counts as missing)', source: '{{a}} {{b.c}} {{a}} {{d}}', vars: { b: {}, d: null } },
  { name: 'a front-matter line without a key', source: '---\ntemperature: 0.2\n: nothing\n---\nx', vars: {} },
  { name: 'not front matter: no closing line', source: '---\ntemperature: 0.2\nHello', vars: {} },
  { name: 'unicode: a BOM before the front matter keeps it text; emoji values', source: '\ufeff---\na: 1\n---\n{{x}}', vars: { x: '😀' } },
  { name: 'variables with non-ASCII letters are not variables', source: '{{naïve}} {{ok_1}}', vars: { ok_1: 'yes' } },
]
