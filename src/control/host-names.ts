// Which Host headers a server of Switchyard's answers: a guard against DNS rebinding. A
// web page whose DNS name the attacker re-points to 127.0.0.1 is same-origin with a
// server on loopback, so without this check it could read what that server answers (and,
// on a gateway, start and cancel runs). The browser sends that page's name in Host; a
// server that answers only for its own names refuses it. The gateway (src/gateway/
// host-check.ts, which says when and why in full) and the worker's /healthz and /metrics
// (src/data/worker/http.ts; python/switchyard_worker/http.py holds the same rule) use it;
// spec/vectors/host-names.json holds both languages to it.
//
// A server's own names, each with the port the connection arrived on: localhost, its bind
// address, and any IP address (an IP cannot be rebound: the browser connects to that very
// address). Names an operator lists are added: a DNS name, a proxy's Host, on any port
// unless the entry names one; `*` turns the check off, and so does a wildcard bind (0.0.0.0,
// ::) with no list: such a server is meant to be reached by names it cannot know.
// A request without Host (HTTP/1.0; never a browser) is answered.
import { isIP } from 'node:net'

const WILDCARDS = new Set(['0.0.0.0', '::', '[::]', '::0', '0:0:0:0:0:0:0:0'])

/** Whether a request's Host names this server; null when every Host is answered. */
export type HostCheck = ((host: string | undefined, socket: { readonly localPort?: number | undefined }) => boolean) | null

/**
 * The check for a server bound to `bindHost` with `allowed` names from the operator (see
 * the header for the rule). An allowed entry without a port matches its name on any port.
 */
export function hostCheck(bindHost: string, allowed: readonly string[] | undefined): HostCheck {
  if (allowed?.includes('*')) return null
  const wildcard = WILDCARDS.has(bindHost.toLowerCase())
  if (wildcard && allowed === undefined) return null
  // Names answered on the connection's own port, listed names on any port, listed name:port pairs.
  const ownPort = new Set(['localhost'])
  if (!wildcard) ownPort.add(bracketed(bindHost.toLowerCase()))
  const anyPort = new Set<string>()
  const exact = new Set<string>()
  for (const entry of allowed ?? []) {
    const parsed = parseHost(entry)
    if (parsed === null) throw new RangeError(`allowedHosts: '${entry}' is not a host name, an IP address or either with :port`)
    if (parsed.port === undefined) anyPort.add(parsed.name)
    else exact.add(`${parsed.name}:${parsed.port}`)
  }
  return (host, socket) => {
    if (host === undefined) return true
    const parsed = parseHost(host)
    if (parsed === null) return false
    if (anyPort.has(parsed.name)) return true
    const port = parsed.port ?? 80
    if (exact.has(`${parsed.name}:${port}`)) return true
    if (port !== socket.localPort) return false
    return ownPort.has(parsed.name) || isIpName(parsed.name)
  }
}

/**
 * A comma-separated list of names from the environment variable `variable` (undefined when
 * unset or blank); a malformed entry throws naming the variable. `*` answers any Host.
 *
 * @example allowedHostsFrom(env.SWITCHYARD_WORKER_ALLOWED_HOSTS, 'SWITCHYARD_WORKER_ALLOWED_HOSTS')
 */
export function allowedHostsFrom(text: string | undefined, variable: string): readonly string[] | undefined {
  if (!text?.trim()) return undefined
  const hosts = text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
  for (const host of hosts) {
    if (host !== '*' && parseHost(host) === null)
      throw new RangeError(`${variable}: '${host}' is not a host name, an IP address or either with :port (or '*' for any)`)
  }
  return hosts
}

/** `name` or `name:port`, `[v6]` or `[v6]:port`, lower-cased; null when it is none of these. */
export function parseHost(text: string): { name: string; port: number | undefined } | null {
  const match = /^(\[[0-9a-f:.]+\]|[a-z0-9._-]+)(?::(\d{1,5}))?$/i.exec(text)
  if (!match?.[1]) return null
  const name = match[1].toLowerCase()
  if (name.startsWith('[') && isIP(name.slice(1, -1)) !== 6) return null
  const port = match[2] === undefined ? undefined : Number(match[2])
  if (port !== undefined && port > 65535) return null
  return { name, port }
}

function bracketed(host: string): string {
  return isIP(host) === 6 ? `[${host}]` : host
}

function isIpName(name: string): boolean {
  return isIP(name) === 4 || name.startsWith('[')
}
