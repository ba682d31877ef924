// What the TypeScript prompt helpers make of each case of spec/vectors/prompt.json.
import { SwitchyardError } from '../../src/control/index.js'
import { parsePrompt } from '../../src/graph/index.js'

export interface PromptCase {
  readonly name: string
  readonly source: string
  readonly vars: Record<string, unknown>
}

export function promptVectors(cases: readonly PromptCase[]): unknown[] {
  return cases.map(({ name, source, vars }) => {
    try {
      const prompt = parsePrompt(source)
      return { name, source, vars, result: { text: prompt.text, hash: prompt.hash, params: prompt.params, rendered: prompt.render(vars) } }
    } catch (error) {
      const e = SwitchyardError.from(error)
      return { name, source, vars, result: { error: { code: e.code, message: e.message } } }
    }
  })
}
