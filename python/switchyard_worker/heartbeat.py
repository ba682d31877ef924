"""A worker process's heartbeat on Redis, as src/data/broker/redis/heartbeat.ts beats.

Every BEAT_MS the process runs BEAT_LUA on the pool's `<prefix>:switchyard.<pool>:sy-workers`
sorted set: its member is the worker id, its score the Redis server's time when the
heartbeat expires (TTL_MS later). The gateway refuses a run a caller waits for when no
worker of the pool has a current heartbeat (POOL_UNAVAILABLE), and counts workers by it
(/readyz, stats). It beats from a thread of its own, so a graph that holds the event loop
does not make the process look dead. test/data/broker/redis/heartbeat.test.ts holds these
numbers and the script to the TypeScript ones.
"""

from __future__ import annotations

import os
import secrets
import socket
import threading

import redis

BEAT_MS = 500
TTL_MS = 2000

BEAT_LUA = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)

redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), ARGV[2])
return now
"""


def workers_key(prefix: str, pool: str) -> str:
    return f"{prefix}:switchyard.{pool}:sy-workers"


class Heartbeat:
    """Beats until stop(); ``beating`` is set once the first beat is in Redis (take runs only then)."""

    def __init__(self, url: str, prefix: str, pool: str) -> None:
        self.key = workers_key(prefix, pool)
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self.beating = threading.Event()
        self._stop = threading.Event()
        self._client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        self._script = self._client.register_script(BEAT_LUA)
        self._thread = threading.Thread(target=self._run, name="switchyard-heartbeat", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._script(keys=[self.key], args=[TTL_MS, self.worker_id])
                self.beating.set()
            except Exception:  # noqa: BLE001 - Redis away: the next beat tries again
                pass
            self._stop.wait(BEAT_MS / 1000)

    def stop(self) -> None:
        """Stop beating and leave the set: a clean exit is not a death."""
        self._stop.set()
        self._thread.join(timeout=3)
        try:
            self._client.zrem(self.key, self.worker_id)
        except Exception:  # noqa: BLE001 - gone anyway once its heartbeat expires
            pass
        self._client.close()
