// Which Host headers the gateway answers: a guard against DNS rebinding (the rule is
// src/control/host-names.ts, which the worker's /healthz and /metrics use too). A web page whose
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
import { allowedHostsFrom } from '../control/index.js'

/** The env variable the CLI reads into GatewayOptions.allowedHosts (comma-separated). */
export const ALLOWED_HOSTS_ENV = 'SWITCHYARD_GATEWAY_ALLOWED_HOSTS'

/** allowedHosts from the environment (undefined when unset); a malformed entry throws naming the variable. */
export function allowedHostsFromEnv(env: NodeJS.ProcessEnv): readonly string[] | undefined {
  return allowedHostsFrom(env[ALLOWED_HOSTS_ENV], ALLOWED_HOSTS_ENV)
}

/** What to tell a refused caller (and the operator who reads it). */
export function misdirectedDetail(host: string): string {
  return (
    `this gateway does not answer for Host '${host.slice(0, 200)}' (a guard against DNS rebinding): it answers ` +
    `localhost, its bind address and IP addresses, on its port. Behind a proxy or under a DNS name, ` +
    `list the names in ${ALLOWED_HOSTS_ENV} (comma-separated, GatewayOptions.allowedHosts), or '*' to answer any`
  )
}
