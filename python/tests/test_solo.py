"""A suspect runs alone in a Python worker process, as in the node worker (redis_source.py).

A suspect is a run whose worker already died under it: here, a job whose BullMQ
`attemptsStarted` (the hash's `ats`) is raised by one before a worker takes it, the count a
take that ended with its worker gone leaves (the end-to-end case, with a real kill -9 and
the supervisor's reaper, is test/data/supervisor/python-solo.test.ts). On real Redis, a real
worker process of concurrency 4 with one run in flight: the suspect waits for it, its graph
not started, its take counted in the pool's `sy-unrun` hash meanwhile, and the worker takes
no other run. Its cancel ends it CANCELLED while it waits; its deadline ends it WORKER_LOST
(not retried). Either way its `sy-unrun` field is gone and the worker takes runs again.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from bullmq import Queue
from redis import Redis

from switchyard_worker.crashes import unrun_key
from switchyard_worker.redis_source import RUN_ERROR_TAG
from tests.test_cancel import RedisServer, Worker, assert_cancelled, cancel, envelope, job_end, redis_server, registry, submit, wait_for, worker

__all__ = ["redis_server", "registry", "worker"]  # the fixtures this file uses from test_cancel


async def submit_suspect(server: RedisServer, raw: dict[str, Any]) -> None:
    """Queued with its one lost take counted, as a reaper leaves a run it put back (delayed
    briefly, so the count is written before any worker can take it)."""
    queue = Queue("switchyard.py", {"connection": server.url, "prefix": "bull"})
    try:
        await queue.add(raw["workflow"], raw, {"jobId": raw["runId"], "attempts": 3, "delay": 500})
    finally:
        await queue.close()
    Redis(port=server.port).hincrby(f"bull:switchyard.py:{raw['runId']}", "ats", 1)


def unrun(server: RedisServer, run_id: str) -> str | None:
    value = Redis(port=server.port, decode_responses=True).hget(unrun_key("bull", "py"), run_id)
    return None if value is None else str(value)


def run_error(fields: dict[str, str]) -> dict[str, Any]:
    reason = fields["failedReason"]
    assert reason.startswith(RUN_ERROR_TAG), fields.get("stacktrace", reason)
    error: dict[str, Any] = json.loads(reason[len(RUN_ERROR_TAG) :])
    return error


async def suspect_waiting(server: RedisServer, tmp_path: Path, *, deadline_in: float = 60.0) -> tuple[str, str]:
    """A run in flight (60 s), then a suspect taken beside it: (the run, the suspect)."""
    busy = envelope("py.watch", {"dir": str(tmp_path), "sleep": 60})
    await submit(server, busy)
    await wait_for("the run in flight to start", (tmp_path / f"{busy['runId']}.started").exists)
    suspect = envelope("py.watch", {"dir": str(tmp_path), "sleep": 0.1}, deadline_in=deadline_in)
    await submit_suspect(server, suspect)
    # Taken, and waiting unrun: its take is set aside from the crash count.
    await wait_for("the suspect to wait, counted unrun", lambda: unrun(server, suspect["runId"]) == "1")
    return busy["runId"], suspect["runId"]


def test_a_suspect_waits_for_the_run_in_flight_and_ends_cancelled_when_cancelled_meanwhile(
    worker: Worker, redis_server: RedisServer, tmp_path: Path
) -> None:
    async def scenario() -> None:
        busy, suspect = await suspect_waiting(redis_server, tmp_path)
        # The worker takes no run while the suspect holds the process.
        later = envelope("py.watch", {"dir": str(tmp_path), "sleep": 0.1})
        await submit(redis_server, later)
        await asyncio.sleep(0.5)
        assert Redis(port=redis_server.port, decode_responses=True).lrange("bull:switchyard.py:wait", 0, -1) == [later["runId"]]
        cancel(redis_server, suspect)
        fields = await wait_for("the suspect to end", lambda: job_end(redis_server, suspect))
        assert_cancelled(fields, suspect)
        assert not (tmp_path / f"{suspect}.started").exists()
        assert unrun(redis_server, suspect) is None
        # Taking runs again, beside the run still in flight.
        done = await wait_for("the later run to end", lambda: job_end(redis_server, later["runId"]))
        assert json.loads(done["returnvalue"])["output"] == {"slept": True}
        assert job_end(redis_server, busy) is None

    asyncio.run(scenario())


def test_a_suspect_still_waiting_at_its_deadline_ends_worker_lost_and_is_not_retried(
    worker: Worker, redis_server: RedisServer, tmp_path: Path
) -> None:
    async def scenario() -> None:
        busy, suspect = await suspect_waiting(redis_server, tmp_path, deadline_in=3)
        fields = await wait_for("the suspect to end", lambda: job_end(redis_server, suspect))
        error = run_error(fields)
        assert error["code"] == "WORKER_LOST", error
        assert error["message"] == (
            f"run {suspect} lost its worker (1 earlier attempt(s) died with their worker) and its deadline "
            f"{envelope_deadline(fields)} passed before another worker could run it"
        )
        # Failed for good with attempts left (3): a retry past the deadline would run for nobody.
        assert Redis(port=redis_server.port).zscore("bull:switchyard.py:failed", suspect) is not None
        assert not (tmp_path / f"{suspect}.started").exists()
        assert unrun(redis_server, suspect) in (None, "0")
        assert job_end(redis_server, busy) is None

    asyncio.run(scenario())


def envelope_deadline(fields: dict[str, str]) -> str:
    deadline: str = json.loads(fields["data"])["deadline"]
    return deadline
