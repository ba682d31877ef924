// A small method + path router: literal segments and `{param}` segments, nothing more.
// A path that exists under another method answers 405 with Allow.

export type Params = Readonly<Record<string, string>>

export interface Route<H> {
  readonly method: string
  /** e.g. `/v1/workflows/{name}/run` */
  readonly pattern: string
  readonly handler: H
}

export type Match<H> =
  | { readonly kind: 'found'; readonly route: Route<H>; readonly params: Params }
  | { readonly kind: 'method-not-allowed'; readonly allow: readonly string[] }
  | { readonly kind: 'not-found' }

interface Compiled<H> {
  readonly route: Route<H>
  readonly segments: readonly string[]
}

export class Router<H> {
  private readonly routes: Compiled<H>[] = []

  add(method: string, pattern: string, handler: H): this {
    this.routes.push({ route: { method, pattern, handler }, segments: split(pattern) })
    return this
  }

  /** Match a request. Throws URIError for a malformed percent-encoding in a parameter. */
  match(method: string, pathname: string): Match<H> {
    const segments = split(pathname)
    const allow = new Set<string>()
    for (const compiled of this.routes) {
      const params = matchSegments(compiled.segments, segments)
      if (params === null) continue
      if (compiled.route.method === method || (method === 'HEAD' && compiled.route.method === 'GET')) {
        return { kind: 'found', route: compiled.route, params }
      }
      allow.add(compiled.route.method)
    }
    if (allow.size > 0) return { kind: 'method-not-allowed', allow: [...allow] }
    return { kind: 'not-found' }
  }
}

function split(path: string): string[] {
  return path === '/' ? [] : path.replace(/^\/+|\/+$/g, '').split('/')
}

function matchSegments(pattern: readonly string[], path: readonly string[]): Record<string, string> | null {
  if (pattern.length !== path.length) return null
  const params: Record<string, string> = {}
  for (let i = 0; i < pattern.length; i++) {
    const want = pattern[i] as string
    const got = path[i] as string
    if (want.startsWith('{') && want.endsWith('}')) {
      if (got === '') return null
      params[want.slice(1, -1)] = decodeURIComponent(got)
    } else if (want !== got) {
      return null
    }
  }
  return params
}
