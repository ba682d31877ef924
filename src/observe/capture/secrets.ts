// A pool's secrets — the values of its env variables named *_KEY, *_TOKEN, *_SECRET,
// *_PASSWORD, or listed under its `secrets:` — never leave its worker in a span, a log
// line or a run's error (the 502 body), whatever its `capture`: a provider's error that
// quotes the API key, a connection string in a stack trace. Scrubbed as written, as
// JSON writes it inside a string and as a URL encodes it. The same rules in the Python
// worker, held to spec/vectors/redaction.json.
import { MASK } from './capture.js'

/** Env variable names whose values are secrets, whatever the pool lists. */
export const SECRET_NAME = /_(?:KEY|TOKEN|SECRET|PASSWORD)$/i

/** Shorter values are not scrubbed: masking every `true` or `1` would hide more than it protects. */
export const MIN_SECRET_LENGTH = 6

/** Replaces every secret in a text. */
export type Scrub = (text: string) => string

/** The names in `env` whose values are secrets (sorted): the suffix rule plus `names`. */
export function secretNames(env: Readonly<Record<string, string | undefined>>, names: readonly string[] = []): string[] {
  const listed = new Set(names)
  return Object.keys(env)
    .filter((name) => (SECRET_NAME.test(name) || listed.has(name)) && (env[name] ?? '').length >= MIN_SECRET_LENGTH)
    .sort()
}

/** A scrubber for the secrets of `env` (see secretNames); the identity when there are none. */
export function secretScrubber(env: Readonly<Record<string, string | undefined>>, names: readonly string[] = []): Scrub {
  const forms = new Set<string>()
  for (const name of secretNames(env, names)) {
    const value = env[name]!
    forms.add(value)
    forms.add(JSON.stringify(value).slice(1, -1))
    forms.add(encodeURIComponent(value))
  }
  // Longest first, so a secret that contains another is replaced whole.
  const ordered = [...forms].filter((form) => form.length >= MIN_SECRET_LENGTH).sort((a, b) => b.length - a.length)
  if (ordered.length === 0) return (text) => text
  return (text) => {
    let out = text
    for (const form of ordered) if (out.includes(form)) out = out.split(form).join(MASK.secret)
    return out
  }
}
