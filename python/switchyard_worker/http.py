"""The worker's small HTTP server: GET /healthz (200, or 503 while draining) and
GET /metrics (Prometheus text), as the node worker has (src/data/worker/http.ts).
Runs never arrive over HTTP.

Against DNS rebinding it answers only a Host naming it, by the gateway's rule
(src/control/host-names.ts): a web page whose name is re-pointed to 127.0.0.1 would
otherwise read the pool's metrics. Answered: localhost, the bind address and any IP
address, on the server's port, and the names the operator lists in
SWITCHYARD_WORKER_ALLOWED_HOSTS (a DNS name, an SSH tunnel's or a proxy's Host; on any port
unless the entry names one; `*`: any Host); a server bound to a wildcard (0.0.0.0, ::) with no
list answers any Host; a request without one (HTTP/1.0, never a browser) is answered.
spec/vectors/host-names.json holds this rule and the node one to the same answers."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import re
from collections.abc import Callable
from typing import Any

from .metrics import CONTENT_TYPE

_WILDCARDS = {"0.0.0.0", "::", "[::]", "::0", "0:0:0:0:0:0:0:0"}
_HOST = re.compile(r"^(\[[0-9a-f:.]+\]|[a-z0-9._-]+)(?::(\d{1,5}))?$", re.IGNORECASE)


def _parse_host(text: str) -> tuple[str, int | None] | None:
    """`name` or `name:port`, `[v6]` or `[v6]:port`, lower-cased; None when it is none of these."""
    match = _HOST.match(text)
    if not match:
        return None
    name = match.group(1).lower()
    if name.startswith("[") and not _is_ip(name[1:-1], 6):
        return None
    port = None if match.group(2) is None else int(match.group(2))
    if port is not None and port > 65535:
        return None
    return name, port


def _is_ip(text: str, version: int | None = None) -> bool:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return False
    return version is None or address.version == version


#: The env variable the worker reads into host_check's ``allowed`` (comma-separated).
ALLOWED_HOSTS_ENV = "SWITCHYARD_WORKER_ALLOWED_HOSTS"


def allowed_hosts_from(text: str | None, variable: str = ALLOWED_HOSTS_ENV) -> list[str] | None:
    """The comma-separated names of ``variable`` (None when unset or blank); a malformed entry
    raises ValueError naming the variable. `*` answers any Host."""
    if not text or not text.strip():
        return None
    hosts = [entry.strip() for entry in text.split(",") if entry.strip()]
    for host in hosts:
        if host != "*" and _parse_host(host) is None:
            raise ValueError(f"{variable}: '{host}' is not a host name, an IP address or either with :port (or '*' for any)")
    return hosts


def host_check(bind_host: str, allowed: list[str] | None = None) -> Callable[[str | None, int], bool] | None:
    """Whether a request's Host (and the port it arrived on) names this server; None when
    every Host is answered (`*` listed, or a wildcard bind with no list)."""
    if allowed is not None and "*" in allowed:
        return None
    wildcard = bind_host.lower() in _WILDCARDS
    if wildcard and allowed is None:
        return None
    own = {"localhost"}
    if not wildcard:
        own.add(f"[{bind_host.lower()}]" if _is_ip(bind_host, 6) else bind_host.lower())
    any_port: set[str] = set()
    exact: set[tuple[str, int]] = set()
    for entry in allowed or []:
        parsed = _parse_host(entry)
        if parsed is None:
            raise ValueError(f"allowed hosts: '{entry}' is not a host name, an IP address or either with :port")
        if parsed[1] is None:
            any_port.add(parsed[0])
        else:
            exact.add((parsed[0], parsed[1]))

    def answered(host: str | None, local_port: int) -> bool:
        if host is None:
            return True
        parsed = _parse_host(host)
        if parsed is None:
            return False
        name, port = parsed
        if name in any_port:
            return True
        port = port if port is not None else 80
        if (name, port) in exact:
            return True
        if port != local_port:
            return False
        return name in own or _is_ip(name, 4) or name.startswith("[")

    return answered


def _header(request: bytes, name: bytes) -> str | None:
    """A header's value from a request's head, or None when it has none."""
    for line in request.split(b"\r\n")[1:]:
        key, sep, value = line.partition(b":")
        if sep and key.strip().lower() == name:
            return value.strip().decode("latin-1")
    return None


async def start_http(
    host: str, port: int, health: Callable[[], dict[str, Any]], metrics: Callable[[], str], *, allowed: list[str] | None = None
) -> asyncio.Server:
    """Serve /healthz and /metrics on ``host``:``port``; ``allowed``: Host names answered besides
    its own (allowed_hosts_from)."""
    allow_host = host_check(host, allowed)

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            method, path = [*request.split(b"\r\n", 1)[0].decode("latin-1").split(" "), "", ""][:2]
            path = path.split("?", 1)[0]
            asked = _header(request, b"host")
            if allow_host is not None and not allow_host(asked, writer.get_extra_info("sockname")[1]):
                status, kind = "421 Misdirected Request", "text/plain"
                body = (
                    f"this worker does not answer for Host '{(asked or '')[:200]}' (a guard against DNS rebinding): "
                    f"ask for localhost or an IP address, on its port, or list the name in {ALLOWED_HOSTS_ENV} (comma-separated; '*' for any)\n"
                )
            elif method != "GET":
                status, kind, body = "405 Method Not Allowed", "text/plain", "only GET\n"
            elif path == "/healthz":
                state = health()
                status = "200 OK" if state.get("status") == "ok" else "503 Service Unavailable"
                kind, body = "application/json", json.dumps(state)
            elif path == "/metrics":
                status, kind, body = "200 OK", CONTENT_TYPE, metrics()
            else:
                status, kind, body = "404 Not Found", "text/plain", "not found: try /healthz or /metrics\n"
            data = body.encode("utf-8")
            writer.write(f"HTTP/1.1 {status}\r\ncontent-type: {kind}\r\ncontent-length: {len(data)}\r\nconnection: close\r\n\r\n".encode() + data)
            await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()

    return await asyncio.start_server(serve, host, port)
