"""A Redis host that vanishes without a word (power lost, a partition, a failover that moved its
address): no RST comes, so TCP takes about 15 minutes to give up on a connection with a command
in flight, and a blocking take waits on. With ``SOCKET_TIMEOUT_S`` (redis_source.py) a Python
pool takes runs again within seconds of its connections' timeout (node's connections have no
such bound yet: RELIABILITY.md says why).

A proxy stands for the network: ``vanish()`` stops forwarding on every connection it holds and
closes none (the worker's kernel gets no RST, nor any answer); a connection opened after it
reaches Redis as before (the address now leads to a live server).
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from bullmq.worker import default_maximum_block_timeout

from switchyard_worker.redis_source import SOCKET_TIMEOUT_S
from switchyard_worker.registry import Registry
from tests.test_cancel import RedisServer, Worker, envelope, job_end, redis_server, registry, serving_worker, submit, wait_for

__all__ = ["redis_server", "registry"]  # the fixtures this file uses from test_cancel


class SilencingProxy:
    """A TCP proxy to a port whose held connections can be made to go silent at once."""

    def __init__(self, port: int) -> None:
        self._port = port
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"redis://127.0.0.1:{self._listener.getsockname()[1]}"
        self._lock = threading.Lock()
        self._live: list[tuple[socket.socket, socket.socket, threading.Event]] = []
        self._silenced: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self._port))
            silent = threading.Event()
            with self._lock:
                self._live.append((client, upstream, silent))
            for source, target in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._forward, args=(source, target, silent), daemon=True).start()

    @staticmethod
    def _forward(source: socket.socket, target: socket.socket, silent: threading.Event) -> None:
        while True:
            try:
                data = source.recv(65536)
            except OSError:
                return
            if silent.is_set():
                return  # read and dropped: what a host that is gone answers
            if not data:
                target.close()
                return
            try:
                target.sendall(data)
            except OSError:
                return

    def vanish(self) -> int:
        """Silence every connection held now; new ones go through. How many were silenced."""
        with self._lock:
            for client, upstream, silent in self._live:
                silent.set()
                self._silenced += [client, upstream]
            count = len(self._live)
            self._live = []
        return count

    def close(self) -> None:
        self._listener.close()
        with self._lock:
            for sock in self._silenced + [s for pair in self._live for s in pair[:2]]:
                sock.close()


@pytest.fixture()
def proxy(redis_server: RedisServer) -> Iterator[SilencingProxy]:
    p = SilencingProxy(redis_server.port)
    yield p
    p.close()


@pytest.fixture()
def proxied_worker(registry: Registry, proxy: SilencingProxy, tmp_path: Path) -> Iterator[Worker]:
    yield from serving_worker(tmp_path, proxy.url)


def test_the_read_timeout_outlasts_bullmqs_longest_blocking_take() -> None:
    # A take answers when its block ends: a shorter timeout cuts it (redis-py's default, 5 s, did).
    assert SOCKET_TIMEOUT_S >= default_maximum_block_timeout + 5


def test_a_pool_whose_redis_host_vanished_takes_runs_again_from_redis_at_the_same_address(
    proxied_worker: Worker, redis_server: RedisServer, proxy: SilencingProxy, tmp_path: Path
) -> None:
    async def scenario() -> None:
        before = envelope("py.watch", {"dir": str(tmp_path), "sleep": 0})
        await submit(redis_server, before)
        await wait_for("the run before the host vanished to end", lambda: job_end(redis_server, before["runId"]))

        silenced = proxy.vanish()
        vanished_at = time.monotonic()
        assert silenced >= 1
        after = envelope("py.watch", {"dir": str(tmp_path), "sleep": 0}, deadline_in=120)
        await submit(redis_server, after)
        # Connections fall silent one after the other: each is found dead SOCKET_TIMEOUT_S after its first read since.
        within = 3 * SOCKET_TIMEOUT_S + 10
        fields = await wait_for(f"the run sent after the host vanished to end within {within} s", lambda: job_end(redis_server, after["runId"]), timeout=within)
        assert json.loads(fields["returnvalue"])["output"] == {"slept": True}, fields
        print(f"{silenced} connections silenced; the run sent then ended {round(time.monotonic() - vanished_at, 1)} s later")

    asyncio.run(scenario())
