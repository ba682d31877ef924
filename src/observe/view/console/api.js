// The console's calls to the gateway: the same HTTP API every caller uses, with the
// bearer token the user gave (kept in this browser's localStorage). A 401 asks for a
// token; every error is an ApiError with the gateway's problem+json code and detail.

const TOKEN_KEY = 'switchyard.token'
const listeners = new Set()

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`)
    this.status = status
    this.code = problem?.code ?? (status === 0 ? 'NETWORK_ERROR' : `HTTP_${status}`)
    this.problem = problem ?? {}
  }
}

export function token() {
  return localStorage.getItem(TOKEN_KEY) ?? ''
}

export function setToken(value) {
  if (value) localStorage.setItem(TOKEN_KEY, value)
  else localStorage.removeItem(TOKEN_KEY)
}

/** Called with the ApiError of every 401 to the token in use: the app opens the token dialog. */
export function onUnauthorized(listener) {
  listeners.add(listener)
}

/**
 * A JSON call. Resolves with { status, body, headers }; rejects with ApiError.
 * @param {string} path
 * @param {{ method?: string, body?: unknown, headers?: Record<string, string>, signal?: AbortSignal }} [options]
 */
export async function call(path, options = {}) {
  const headers = { accept: 'application/json, application/problem+json', ...options.headers }
  const bearer = token()
  if (bearer) headers.authorization = `Bearer ${bearer}`
  if (options.body !== undefined) headers['content-type'] = 'application/json'
  let response
  try {
    response = await fetch(path, {
      method: options.method ?? 'GET',
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
    })
  } catch (error) {
    if (error?.name === 'AbortError') throw error
    throw new ApiError(0, { detail: `the gateway cannot be reached (${error?.message ?? error})` })
  }
  const text = await response.text()
  let body = null
  try {
    body = text ? JSON.parse(text) : null
  } catch {
    body = text
  }
  if (!response.ok) {
    const error = new ApiError(response.status, typeof body === 'object' ? body : { detail: String(body) })
    // Only a refusal of the token in use now: a call sent before the user saved another one
    // (the page's first calls go out together, without a token) says nothing about it.
    if (response.status === 401 && bearer === token()) for (const listener of listeners) listener(error)
    throw error
  }
  return { status: response.status, body, headers: response.headers }
}

export const get = (path, options) => call(path, options).then((r) => r.body)
