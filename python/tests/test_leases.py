"""The Python worker's leases, as the node worker writes them.

- spec/vectors/leases.json: the heartbeat's set, the lease hash and its field and value, the
  pool's `sy-unrun` hash (node's side: test/data/broker/redis/lease-vectors.test.ts).
- On real Redis, a real worker process: before a run's graph starts, its lease is in the
  process's `sy-leases:<worker id>` hash (field the run id, value the lock token BullMQ holds
  for the job, i.e. the job's `:lock` key); it is removed when the run ends; SIGTERM (drain)
  leaves no hash and no heartbeat member behind; a kill -9 leaves the lease for a reaper.
  The end-to-end proof that a reaper hands the run on is test/data/supervisor/python-crash.test.ts.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
from pathlib import Path

from redis import Redis

from switchyard_worker.crashes import unrun_key
from switchyard_worker.heartbeat import Heartbeat, leases_key, workers_key
from tests.conftest import SPEC
from tests.test_cancel import RedisServer, Worker, envelope, job_end, redis_server, registry, submit, wait_for, worker

__all__ = ["redis_server", "registry", "worker"]  # the fixtures this file uses from test_cancel


def test_the_lease_vectors_hold_for_the_python_worker() -> None:
    vectors = json.loads((SPEC / "vectors" / "leases.json").read_text(encoding="utf-8"))
    assert len(vectors["cases"]) >= 2
    for v in vectors["cases"]:
        assert workers_key(v["prefix"], v["pool"]) == v["workers"], v["description"]
        assert unrun_key(v["prefix"], v["pool"]) == v["unrun"], v["description"]
        assert leases_key(v["prefix"], v["pool"], v["workerId"]) == v["leases"], v["description"]
        assert (v["field"], v["value"]) == (v["runId"], v["token"]), v["description"]


def text(server: RedisServer) -> Redis:
    return Redis(port=server.port, decode_responses=True)


def members(server: RedisServer) -> list[str]:
    return [str(m) for m in text(server).zrange(workers_key("bull", "py"), 0, -1)]


def leases(server: RedisServer, worker_id: str) -> dict[str, str]:
    return {str(k): str(v) for k, v in text(server).hgetall(leases_key("bull", "py", worker_id)).items()}


def lock(server: RedisServer, run_id: str) -> str | None:
    value = text(server).get(f"bull:switchyard.py:{run_id}:lock")
    return None if value is None else str(value)


def test_a_heartbeat_member_is_host_pid_random_as_the_supervisor_looks_it_up(redis_server: RedisServer) -> None:
    beat = Heartbeat(redis_server.url, "bull", "py")
    try:
        assert beat.beating.wait(5)
        host, pid, tail = beat.worker_id.split(":")
        assert (host, int(pid), len(tail)) == (socket.gethostname(), os.getpid(), 8)
        assert beat.leases == leases_key("bull", "py", beat.worker_id)
        Redis(port=redis_server.port).hset(beat.leases, "left-over", "t:1")
    finally:
        beat.stop()
    # Leaving cleanly drops the member and the whole lease hash.
    assert members(redis_server) == []
    assert Redis(port=redis_server.port).exists(leases_key("bull", "py", beat.worker_id)) == 0


def test_a_run_is_leased_with_its_lock_token_before_its_graph_starts_and_released_when_it_ends(
    worker: Worker, redis_server: RedisServer, tmp_path: Path
) -> None:
    async def scenario() -> None:
        [member] = await wait_for("the worker's heartbeat", lambda: members(redis_server) or None)
        assert member.split(":")[1] == str(worker.process.pid)
        raw = envelope("py.watch", {"dir": str(tmp_path), "sleep": 1.5})
        await submit(redis_server, raw)
        run_id = raw["runId"]
        await wait_for("the graph to start", (tmp_path / f"{run_id}.started").exists)
        held = leases(redis_server, member)
        assert held == {run_id: lock(redis_server, run_id)}
        # BullMQ's `<worker uuid>:<n>`, as is (no prefix, no JSON).
        assert held[run_id].rsplit(":", 1)[1].isdigit()
        fields = await wait_for("the run to settle", lambda: job_end(redis_server, run_id))
        assert json.loads(fields["returnvalue"])["output"] == {"slept": True}
        await wait_for("the lease to go", lambda: leases(redis_server, member) == {})
        # A second run: leased and released again, under the same worker.
        again = envelope("py.watch", {"dir": str(tmp_path), "sleep": 0.2})
        await submit(redis_server, again)
        await wait_for("the second run to settle", lambda: job_end(redis_server, again["runId"]))
        await wait_for("its lease to go", lambda: leases(redis_server, member) == {})

        # SIGTERM drains: the run in flight finishes, and the process leaves nothing behind.
        last = envelope("py.watch", {"dir": str(tmp_path), "sleep": 1})
        await submit(redis_server, last)
        await wait_for("the last graph to start", (tmp_path / f"{last['runId']}.started").exists)
        assert list(leases(redis_server, member)) == [last["runId"]]
        worker.process.send_signal(signal.SIGTERM)
        assert await asyncio.get_running_loop().run_in_executor(None, worker.process.wait, 30) == 0
        assert job_end(redis_server, last["runId"]) is not None
        assert members(redis_server) == []
        assert Redis(port=redis_server.port).exists(leases_key("bull", "py", member)) == 0

    asyncio.run(scenario())


def test_a_kill_9_leaves_the_lease_for_a_reaper(worker: Worker, redis_server: RedisServer, tmp_path: Path) -> None:
    async def scenario() -> None:
        [member] = await wait_for("the worker's heartbeat", lambda: members(redis_server) or None)
        raw = envelope("py.watch", {"dir": str(tmp_path), "sleep": 60})
        await submit(redis_server, raw)
        await wait_for("the graph to start", (tmp_path / f"{raw['runId']}.started").exists)
        worker.process.send_signal(signal.SIGKILL)
        worker.process.wait(10)
        assert leases(redis_server, member) == {raw["runId"]: lock(redis_server, raw["runId"])}
        assert member in members(redis_server)

    asyncio.run(scenario())
