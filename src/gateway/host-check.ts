// Which Host headers the gateway answers: a guard against DNS rebinding. A web page whose
// DNS name the attacker re-points to 127.0.0.1 is same-origin with a gateway on loopback,
// so without this check it could list runs, read their outputs, start and cancel runs on
// an open `switchyard dev` (and read the open routes of any gateway). The browser sends
// that page's name in Host; a gateway that answers only for its own names refuses it.
//
// A gateway's own names, each with the port the connection arrived on: localhost, its bind
// address, and any IP address (127.0.0.1, [::1], a pod's IP a probe uses, 0.0.0.0 that
// `--host 0.0.0.0` puts in its own URL): an IP in the URL cannot be rebound, the browser
// connects to that very address. Names an operator lists (GatewayOptions.allowedHosts, in
// the CLI SWITCHYARD_GATEWAY_ALLOWED_HOSTS) are added: a DNS name, a proxy's Host, on any
// port unless the entry names one; `*` turns the check off.
//
// When it applies: always, except on a gateway bound to a wildcard (0.0.0.0, ::) with no
// list. Such a gateway is meant to be reached by names it cannot know (a proxy, a load
// balancer, a container's published port), and refusing them would break deployments that
// worked; an operator who lists names gets the check there too. A loopback-bound gateway is
// the one a browser on the same machine reaches (the attack above), tokens or not: the
// rule does not change when tokens are added, and the open routes stay private too.
// No route is exempt: /healthz and /readyz probes name an IP, which is answered.
// A request without Host (HTTP/1.0; never a browser) is answered.
import { isIP } from 'node:net'

/** The env variable the CLI reads into GatewayOptions.allowedHosts (comma-separated). */
export const ALLOWED_HOSTS_ENV = 'SWITCHYARD_GATEWAY_ALLOWED_HOSTS'

const WILDCARDS = new Set(['0.0.0.0', '::', '[::]', '::0', '0:0:0:0:0:0:0:0'])

/** Whether a request's Host names this gateway; null when every Host is answered. */
export type HostCheck = ((host: string | undefined, socket: { readonly localPort?: number | undefined }) => boolean) | null

/** allowedHosts from the environment (undefined when unset); a malformed entry throws naming the variable. */
export function allowedHostsFromEnv(env: NodeJS.ProcessEnv): readonly string[] | undefined {
  const text = env[ALLOWED_HOSTS_ENV]?.trim()
  if (!text) return undefined
  const hosts = text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
  for (const host of hosts) {
    if (host !== '*' && parseHost(host) === null)
      throw new RangeError(`${ALLOWED_HOSTS_ENV}: '${host}' is not a host name, an IP address or either with :port (or '*' for any)`)
  }
  return hosts
}

/**
 * The check for a gateway bound to `bindHost` with `allowed` names from the operator (see
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

/** What to tell a refused caller (and the operator who reads it). */
export function misdirectedDetail(host: string): string {
  return (
    `this gateway does not answer for Host '${host.slice(0, 200)}' (a guard against DNS rebinding): it answers ` +
    `localhost, its bind address and IP addresses, on its port. Behind a proxy or under a DNS name, ` +
    `list the names in ${ALLOWED_HOSTS_ENV} (comma-separated, GatewayOptions.allowedHosts), or '*' to answer any`
  )
}

/** `name` or `name:port`, `[v6]` or `[v6]:port`, lower-cased; null when it is none of these. */
function parseHost(text: string): { name: string; port: number | undefined } | null {
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
