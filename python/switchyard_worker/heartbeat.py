"""A worker process's heartbeat on Redis, as src/data/broker/redis/heartbeat.ts beats.

Every BEAT_MS the process runs BEAT_LUA on the pool's `<prefix>:switchyard.<pool>:sy-workers`
sorted set: its member is the worker id, its score the Redis server's time when the
heartbeat expires (TTL_MS later). The gateway refuses a run a caller waits for when no
worker of the pool has a current heartbeat (POOL_UNAVAILABLE), and counts workers by it
(/readyz, stats). It beats from a thread of its own, so a graph that holds the event loop
does not make the process look dead. test/data/broker/redis/heartbeat.test.ts holds these
numbers and the script to the TypeScript ones.

Beside its heartbeat, a worker keeps its leases (`sy-leases:<worker id>`, a hash of run id →
BullMQ lock token, written by redis_source.py as each run starts): a supervisor that sees the
process die, or a reaper that sees its heartbeat expire (the gateway, for every pool), hands
those runs on at once (src/data/broker/redis/reaper.ts). A worker that leaves cleanly deletes the hash as it leaves
the set. spec/vectors/leases.json holds both languages to these names.
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


def leases_key(prefix: str, pool: str, worker_id: str) -> str:
    """The hash of the runs one worker process holds: field the run id, value BullMQ's lock token."""
    return f"{prefix}:switchyard.{pool}:sy-leases:{worker_id}"


class Heartbeat:
    """Beats until stop(); ``beating`` is set once the first beat is in Redis (take runs only then)."""

    def __init__(self, url: str, prefix: str, pool: str) -> None:
        self.key = workers_key(prefix, pool)
        # `<host>:<pid>:<random>`, as node's: a supervisor finds its dead child's member by `<host>:<pid>:`.
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self.leases = leases_key(prefix, pool, self.worker_id)
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
        """Stop beating, leave the set and drop the leases (call it once no run is in flight): a clean exit is not a death."""
        self._stop.set()
        self._thread.join(timeout=3)
        try:
            pipe = self._client.pipeline(transaction=False)
            pipe.zrem(self.key, self.worker_id)
            pipe.delete(self.leases)
            pipe.execute()
        except Exception:  # noqa: BLE001 - gone anyway once its heartbeat expires
            pass
        self._client.close()
