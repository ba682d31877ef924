import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { loadRegistry, RegistryError } from '../../../src/control/index.js'
import { folder, lines, POOLS_YAML, problemsOf, type Folder } from '../fixture.js'

const made: Folder[] = []
after(() => made.forEach((f) => f.remove()))

function registry(yaml: string, files: Record<string, string> = {}, name = 'switchyard.yaml'): { f: Folder; file: string } {
  const f = folder({ ...files, [name]: yaml })
  made.push(f)
  return { f, file: f.path(name) }
}

const WF = `    pool: email
    graph: wf/graph.ts#graph
    input: { type: object }
    description: d
`

void describe('registry problems, each located where the person wrote it', () => {
  void it('a duplicate workflow name in YAML names both lines', () => {
    const { file } = registry(`version: 1\n${POOLS_YAML}workflows:\n  email.compose:\n${WF}  email.compose:\n${WF}`)
    const problems = problemsOf(() => loadRegistry(file))
    assert.deepEqual(lines(problems), ["15:3 duplicate workflow 'email.compose' (first defined at line 10)"])
    assert.equal(problems[0]?.file, file)
  })

  void it('a duplicate workflow name in JSON (which JSON.parse would hide) names both lines', () => {
    const wf = '{ "pool": "email", "graph": "wf/graph.ts", "input": {}, "description": "d" }'
    const json = `{\n  "version": 1,\n  "pools": { "email": {} },\n  "workflows": {\n    "a.b": ${wf},\n    "a.b": ${wf}\n  }\n}\n`
    const { file } = registry(json, {}, 'switchyard.json')
    assert.deepEqual(lines(problemsOf(() => loadRegistry(file))), ["6:5 duplicate workflow 'a.b' (first defined at line 5)"])
  })

  void it('JSON that only YAML accepts is a JSON error', () => {
    const { file } = registry('{\n  "version": 1,\n  "pools": {},\n}\n', {}, 'switchyard.json')
    const [problem] = problemsOf(() => loadRegistry(file))
    assert.match(`${problem?.line}:${problem?.column} ${problem?.message}`, /^4:1 invalid JSON: /)
  })

  void it('an unknown pool suggests the near one', () => {
    const { file } = registry(
      `version: 1\n${POOLS_YAML}workflows:\n  email.compose:\n    pool: emial\n    graph: wf/graph.ts\n    input: {}\n    description: d\n`,
    )
    assert.deepEqual(lines(problemsOf(() => loadRegistry(file))), [
      "11:11 workflow 'email.compose': unknown pool 'emial' (did you mean 'email'?)",
    ])
  })

  void it('an invalid workflow name says what a name may be', () => {
    const { file } = registry(`version: 1\n${POOLS_YAML}workflows:\n  Email_Compose:\n${WF}`)
    assert.deepEqual(lines(problemsOf(() => loadRegistry(file))), [
      "10:3 invalid workflow name 'Email_Compose': use lowercase letters and digits, words joined by '.' or '-'",
    ])
  })

  void it('an unknown key (a typo) is an error with a suggestion', () => {
    const { file } = registry(`version: 1\npools:\n  email:\n    timout: 2m\nworkflows: {}\n`)
    assert.deepEqual(lines(problemsOf(() => loadRegistry(file))), ["4:5 unknown key 'timout' in pool 'email' (did you mean 'timeout'?)"])
  })

  void it('a missing registry file, and missing referenced files', () => {
    const f = folder()
    made.push(f)
    const missing = f.path('nope.yaml')
    assert.deepEqual(
      problemsOf(() => loadRegistry(missing)),
      [{ file: missing, line: 0, column: 0, message: 'registry file not found' }],
    )
    const { file } = registry(
      `version: 1\npools:\n  email: { env: env/email.env }\nworkflows:\n  a.b:\n    pool: email\n    graph: wf/nope.ts#graph\n    prompt: wf/prompt.md\n    input: wf/input.schema.json\n    description: d\n`,
    )
    assert.deepEqual(lines(problemsOf(() => loadRegistry(file))), [
      "3:17 pool 'email' env: file not found: env/email.env",
      "7:12 workflow 'a.b' graph: file not found: wf/nope.ts",
      "8:13 workflow 'a.b' prompt: file not found: wf/prompt.md",
      "9:12 workflow 'a.b' input: file not found: wf/input.schema.json",
    ])
  })

  void it('bad duration, size and sampleRate', () => {
    const { file } = registry(
      `version: 1\npools:\n  email:\n    timeout: 2 minutes\n    memory: 512\n    tracing: { sampleRate: 1.5 }\nworkflows: {}\n`,
    )
    assert.deepEqual(lines(problemsOf(() => loadRegistry(file))), [
      `4:14 pool 'email' timeout: "2 minutes" is not a duration (use 250ms, 30s, 2m or 1h)`,
      "5:13 pool 'email' memory: 512 is not a size (use 256mb or 1gb)",
      "6:28 pool 'email' tracing.sampleRate: must be a number from 0 to 1, got 1.5",
    ])
  })

  void it('memory: units below mb and caps below 64mb are refused, never raised in silence', () => {
    const { file } = registry(
      `version: 1\npools:\n  a:\n    memory: 512kb\n  b:\n    memory: 1048576b\n  c:\n    memory: 32mb\n  d:\n    memory: 64mb\nworkflows: {}\n`,
    )
    assert.deepEqual(lines(problemsOf(() => loadRegistry(file))), [
      `4:13 pool 'a' memory: "512kb" is below the minimum of 64mb`,
      `6:13 pool 'b' memory: "1048576b" is not a size (use 256mb or 1gb)`,
      `8:13 pool 'c' memory: "32mb" is below the minimum of 64mb`,
    ])
  })

  void it('maxOutput: a size from 1kb to 64mb, 1mb by default', () => {
    const { file } = registry(
      `version: 1\npools:\n  a:\n    maxOutput: 512b\n  b:\n    maxOutput: 1gb\n  c:\n    maxOutput: 256kb\n  d: {}\nworkflows: {}\n`,
    )
    assert.deepEqual(lines(problemsOf(() => loadRegistry(file))), [
      `4:16 pool 'a' maxOutput: "512b" is not a size (use 256kb, 1mb or 8mb)`,
      `6:16 pool 'b' maxOutput: "1gb" is outside 1kb to 64mb (a larger result belongs in object storage, with its link in the output)`,
    ])
    const { file: good } = registry(`version: 1\npools:\n  c:\n    maxOutput: 256kb\n  d: {}\nworkflows: {}\n`)
    const pools = loadRegistry(good).pools
    assert.deepEqual([pools.get('c')?.maxOutputBytes, pools.get('d')?.maxOutputBytes], [256 * 1024, 1024 ** 2])
  })

  void it("timeout: at most 2^31 - 1 ms (Node fires a longer timer after 1 ms), for a pool's and a workflow's", () => {
    const { file } = registry(
      `version: 1\npools:\n  a:\n    timeout: 597h\n  b:\n    timeout: 596h\nworkflows:\n  b.w:\n    pool: b\n    graph: wf/graph.ts\n    input: { type: object }\n    description: d\n    timeout: 2147483648ms\n`,
    )
    const tail = 'longer than the longest timeout, 2147483647 ms (about 24.8 days): Node fires a longer timer after 1 ms'
    assert.deepEqual(lines(problemsOf(() => loadRegistry(file))), [
      `4:14 pool 'a' timeout: "597h" is 2149200000 ms, ${tail}`,
      `13:14 workflow 'b.w' timeout: "2147483648ms" is 2147483648 ms, ${tail}`,
    ])
  })

  void it('an invalid JSON Schema points into the schema file', () => {
    const schema = '{\n  "type": "object",\n  "properties": {\n    "name": { "type": "strin" }\n  }\n}\n'
    const { f, file } = registry(
      `version: 1\npools:\n  email: {}\nworkflows:\n  a.b:\n    pool: email\n    graph: wf/graph.ts\n    input: wf/input.schema.json\n    description: d\n`,
      { 'wf/input.schema.json': schema },
    )
    const problems = problemsOf(() => loadRegistry(file))
    assert.deepEqual(lines(problems), [
      `4:23 workflow 'a.b' input schema is invalid: /properties/name/type must be equal to one of the allowed values: "array", "boolean", "integer", "null", "number", "object", "string"`,
    ])
    assert.equal(problems[0]?.file, f.path('wf/input.schema.json'))
  })

  void it('an unknown schema keyword (a typo) is located at the key', () => {
    const { file } = registry(
      `version: 1\npools:\n  email: {}\nworkflows:\n  a.b:\n    pool: email\n    graph: wf/graph.ts\n    input:\n      type: object\n      requried: [name]\n    description: d\n`,
    )
    assert.deepEqual(lines(problemsOf(() => loadRegistry(file))), [
      `10:7 workflow 'a.b' input schema is invalid: strict mode: unknown keyword: "requried"`,
    ])
  })

  void it('reports every problem of a file at once, in line order', () => {
    const { file } = registry(
      `version: 2\npools:\n  email:\n    concurrency: 0\n    runtime: ruby\nworkflows:\n  Bad:\n    pool: nope\n    graph: wf/graph.ts#not-a-name\n    input: 42\n    colour: blue\n`,
    )
    const error = (() => {
      try {
        loadRegistry(file)
      } catch (e) {
        return e
      }
    })()
    assert.ok(error instanceof RegistryError)
    assert.equal(error.code, 'REGISTRY_INVALID')
    assert.deepEqual(lines(error.problems), [
      '1:10 version: must be 1, got 2',
      "4:18 pool 'email' concurrency: must be an integer ≥ 1, got 0",
      '5:14 pool \'email\' runtime: must be one of node, python, got "ruby"',
      "7:3 invalid workflow name 'Bad': use lowercase letters and digits, words joined by '.' or '-'",
      "7:3 workflow 'Bad' is missing 'description'",
      "8:11 workflow 'Bad': unknown pool 'nope'",
      "9:12 workflow 'Bad' graph: 'not-a-name' is not an export name (use path#export)",
      "10:12 workflow 'Bad' input: must be a schema file path or an inline JSON Schema, got 42",
      "11:5 unknown key 'colour' in workflow 'Bad' (expected one of: pool, graph, prompt, input, output, description, timeout, retries)",
    ])
    assert.equal(error.message.split('\n')[0], 'registry is invalid (9 problems):')
    assert.equal(error.message.split('\n')[1], `  ${file}:1:10: version: must be 1, got 2`)
  })

  void it('duplicate pools, and duplicate keys inside a schema file, name both lines', () => {
    const { f, file } = registry(
      `version: 1\npools:\n  email: {}\n  email: {}\nworkflows:\n  a.b: { pool: email, graph: wf/graph.ts, input: wf/in.json, description: d }\n`,
      { 'wf/in.json': '{\n  "type": "object",\n  "type": "array"\n}\n' },
    )
    const problems = problemsOf(() => loadRegistry(file))
    assert.deepEqual(
      problems.map((p) => `${p.file === file ? 'registry' : p.file.slice(f.dir.length + 1)}:${p.line}:${p.column} ${p.message}`),
      ["registry:4:3 duplicate pool 'email' (first defined at line 3)", "wf/in.json:3:3 duplicate key 'type' (first defined at line 2)"],
    )
  })

  void it('checks redis URLs and tracing.redact', () => {
    const { file } = registry(
      `version: 1\npools:\n  email:\n    redis: localhost:6379\n    tracing: { capture: redacted, redact: phone }\nworkflows: {}\n`,
    )
    assert.deepEqual(lines(problemsOf(() => loadRegistry(file))), [
      `4:12 pool 'email' redis: must be a redis:// or rediss:// URL, got "localhost:6379"`,
      `5:43 pool 'email' tracing.redact: must be a list of key names, got "phone"`,
    ])
    const ok = registry(
      `version: 1\npools:\n  email:\n    redis: redis://127.0.0.1:6379/2\n    tracing: { capture: redacted, redact: [phone, token] }\nworkflows: {}\n`,
    )
    const pool = loadRegistry(ok.file).pools.get('email')
    assert.equal(pool?.redis, 'redis://127.0.0.1:6379/2')
    assert.deepEqual(pool?.tracing, { project: 'email', sampleRate: 1, capture: 'redacted', redact: ['phone', 'token'] })
  })

  void it('checks user: a name or a numeric uid, kept as written (a YAML number becomes its digits)', () => {
    const { file } = registry(`version: 1\npools:\n  a:\n    user: 'sy email'\n  b:\n    user: -5\n  c:\n    user: [x]\nworkflows: {}\n`)
    assert.deepEqual(lines(problemsOf(() => loadRegistry(file))), [
      `4:11 pool 'a' user: must be a user name or a numeric uid, got "sy email"`,
      `6:11 pool 'b' user: must be a user name or a numeric uid, got -5`,
      `8:11 pool 'c' user: must be a user name or a numeric uid, got ["x"]`,
    ])
    const ok = registry(`version: 1\npools:\n  a:\n    user: sy-email\n  b:\n    user: 1042\n  c: {}\nworkflows: {}\n`)
    const pools = loadRegistry(ok.file).pools
    assert.deepEqual(
      ['a', 'b', 'c'].map((name) => pools.get(name)?.user),
      ['sy-email', '1042', null],
    )
  })

  void it('structure comes from spec/registry.schema.json: types, maps, names, blanks; empty maps and tracing are allowed', () => {
    const { file } = registry(
      `pools:\n  email:\n    concurrency: true\n    tracing: { project: '  ' }\n  Bad_Pool: 5\nworkflows:\n  a.b:\n    pool: email\n    graph: wf/graph.ts\n    input: []\n    description: ' '\n`,
    )
    assert.deepEqual(lines(problemsOf(() => loadRegistry(file))), [
      "1:1 missing 'version' (use version: 1)",
      "3:18 pool 'email' concurrency: must be an integer ≥ 1, got true",
      `4:25 pool 'email' tracing.project: must be a non-empty string, got "  "`,
      "5:3 invalid pool name 'Bad_Pool': use lowercase letters and digits, words joined by '-'",
      "5:13 pool 'Bad_Pool' must be a map, got 5",
      "10:12 workflow 'a.b' input: must be a schema file path or an inline JSON Schema, got []",
      `11:18 workflow 'a.b' description: must be a non-empty string, got " "`,
    ])
    const empty = registry(`version: 1\npools:\n  email:\n    tracing:\nworkflows:\n`)
    assert.deepEqual(loadRegistry(empty.file).pools.get('email')?.tracing, { project: 'email', sampleRate: 1, capture: 'full', redact: [] })
  })

  void it('a registry that is not a map, and a duration of the right shape that is no time at all', () => {
    assert.deepEqual(lines(problemsOf(() => loadRegistry(registry('- 1\n- 2\n').file))), ['1:1 the registry must be a map, got [1,2]'])
    const { file } = registry(`version: 1\npools:\n  email:\n    timeout: 0s\nworkflows: {}\n`)
    assert.deepEqual(lines(problemsOf(() => loadRegistry(file))), [
      `4:14 pool 'email' timeout: "0s" is not a duration (use 250ms, 30s, 2m or 1h)`,
    ])
  })

  void it('a YAML syntax error is located', () => {
    const { file } = registry('version: 1\npools: [\n')
    const [problem] = problemsOf(() => loadRegistry(file))
    assert.equal(problem?.file, file)
    assert.ok(problem && problem.line >= 2, JSON.stringify(problem))
  })
})
