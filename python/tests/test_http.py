"""The worker's /healthz and /metrics answer only a Host that names them (DNS rebinding):
a web page whose name is re-pointed to 127.0.0.1 sends its own name in Host and gets 421,
as from the gateway and the node worker (test/security/dns-rebinding.test.ts)."""

from __future__ import annotations

import asyncio
import json

import pytest

from switchyard_worker.__main__ import main
from switchyard_worker.http import allowed_hosts_from, host_check, start_http
from tests.conftest import SPEC


async def _ask(port: int, host: str | None, path: str = "/metrics") -> tuple[int, str]:
    """One request to 127.0.0.1:port with `host` as its Host header (None: HTTP/1.0 without one)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = f"GET {path} HTTP/1.1\r\nhost: {host}\r\n\r\n" if host is not None else f"GET {path} HTTP/1.0\r\n\r\n"
    writer.write(head.encode())
    await writer.drain()
    answer = (await reader.read()).decode()
    writer.close()
    status_line, _, rest = answer.partition("\r\n")
    return int(status_line.split(" ")[1]), rest.partition("\r\n\r\n")[2]


async def _statuses(bind: str, hosts: list[str | None], allowed: list[str] | None = None) -> list[int]:
    server = await start_http(bind, 0, lambda: {"status": "ok"}, lambda: "switchyard_worker_runs_in_flight 0\n", allowed=allowed)
    try:
        port = server.sockets[0].getsockname()[1]
        return [(await _ask(port, host.replace("PORT", str(port)) if host else None))[0] for host in hosts]
    finally:
        server.close()
        await server.wait_closed()


def test_a_loopback_worker_refuses_another_sites_name_and_answers_its_own() -> None:
    hosts: list[str | None] = [
        "rebound.example:PORT",
        "rebound.example",
        "localhost:1",
        "not a host",
        "localhost:PORT",
        "127.0.0.1:PORT",
        "10.1.2.3:PORT",
        "[::1]:PORT",
        None,
    ]
    assert asyncio.run(_statuses("127.0.0.1", hosts)) == [421, 421, 421, 421, 200, 200, 200, 200, 200]


def test_the_refusal_says_why_and_shows_no_metric() -> None:
    async def scenario() -> tuple[int, str]:
        server = await start_http("127.0.0.1", 0, lambda: {"status": "ok"}, lambda: "switchyard_worker_runs_in_flight 0\n")
        try:
            return await _ask(server.sockets[0].getsockname()[1], "rebound.example", "/healthz")
        finally:
            server.close()
            await server.wait_closed()

    status, body = asyncio.run(scenario())
    assert status == 421
    assert "DNS rebinding" in body and "rebound.example" in body and "SWITCHYARD_WORKER_ALLOWED_HOSTS" in body
    assert "switchyard_worker" not in body and "status" not in body


def test_a_worker_bound_to_every_address_answers_any_host() -> None:
    assert asyncio.run(_statuses("0.0.0.0", ["rebound.example:PORT", "localhost:PORT"])) == [200, 200]


def test_the_host_vectors_hold_for_the_python_worker() -> None:
    """spec/vectors/host-names.json: the node rule's answers (test/security/dns-rebinding.test.ts)."""
    vectors = json.loads((SPEC / "vectors" / "host-names.json").read_text(encoding="utf-8"))
    assert len(vectors["cases"]) >= 10
    for v in vectors["cases"]:
        check = host_check(v["bind"], v["allowed"])
        for host in v["answered"]:
            assert check is None or check(host, v["port"]), f"{v['description']}: {host!r} answered"
        for host in v["refused"]:
            assert check is not None and not check(host, v["port"]), f"{v['description']}: {host!r} refused"


def test_the_names_listed_in_switchyard_worker_allowed_hosts_are_answered() -> None:
    """An SSH tunnel (`ssh -L 9999:127.0.0.1:PORT`) and a DNS name, listed; the rest still refused."""
    assert allowed_hosts_from(None) is None and allowed_hosts_from("  ") is None
    assert allowed_hosts_from(" localhost:9999, metrics.example ") == ["localhost:9999", "metrics.example"]
    hosts: list[str | None] = ["localhost:9999", "metrics.example:443", "localhost:PORT", "rebound.example:PORT", "localhost:9998"]
    assert asyncio.run(_statuses("127.0.0.1", hosts, ["localhost:9999", "metrics.example"])) == [200, 200, 200, 421, 421]


def test_a_malformed_allowed_host_stops_the_worker_naming_the_variable(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SWITCHYARD_WORKER_ALLOWED_HOSTS", "metrics.example, http://x")
    assert main(["--pool", "py"]) == 2
    assert "SWITCHYARD_WORKER_ALLOWED_HOSTS: 'http://x' is not a host name" in capsys.readouterr().err
