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
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bullmq import Queue
from redis import Redis

from switchyard_worker.crashes import STARTED_LUA, unrun_key
from switchyard_worker.redis_source import RUN_ERROR_TAG
from tests.conftest import pool, workflow, write_resolved
from tests.test_cancel import RedisServer, Worker, assert_cancelled, cancel, envelope, job_end, redis_server, registry, serving_worker, submit, wait_for, worker

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
    # Counted as it was fetched too, and taken back as its processor started it: still 1 now, the wait's.
    await asyncio.sleep(0.3)
    assert unrun(server, suspect["runId"]) == "1"
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


AUDIT = textwrap.dedent('''
    import asyncio, json, pathlib

    async def _unleased(client):
        active = set(await client.lrange("bull:switchyard.py:active", 0, -1))
        async for key in client.scan_iter("bull:switchyard.py:sy-leases:*"):
            active -= set(await client.hkeys(key))
        return active

    async def audit(input, run):
        from redis.asyncio import Redis

        def report(line):
            with open(input["report"], "a", encoding="utf-8") as file:
                file.write(json.dumps(line) + "\\n")

        here = pathlib.Path(input["inflight"])
        (here / run.run_id).touch()
        beside = sorted(p.name for p in here.iterdir() if p.name != run.run_id)
        if beside:
            report({"suspect": run.run_id, "beside": beside})
        client = Redis.from_url(input["redis"], decode_responses=True)
        try:
            # A run fetched a moment ago is leased a round trip later: only one that stays unleased counts.
            unleased = await _unleased(client)
            if unleased:
                await asyncio.sleep(0.2)
                unleased &= await _unleased(client)
            if unleased:
                report({"suspect": run.run_id, "unleased": sorted(unleased)})
        finally:
            await client.aclose()
            (here / run.run_id).unlink()
        return {"audited": True}
''')


def test_while_a_suspect_runs_every_run_its_process_holds_is_leased(redis_server: RedisServer, tmp_path: Path) -> None:
    """A suspect pauses its worker; runs BullMQ fetched just then are handed back, or held by
    BullMQ's loop, unprocessed, until the worker resumes. Were the suspect to take the process
    down, any of them still active must be leased, so a reaper hands it on at once (an active
    run without a lease waits for BullMQ's stalled check, 60-90 s: python-solo.test.ts timed
    out on one). Each suspect's graph lists the active runs no lease names, and the suspects
    whose graphs run beside it (none: each runs alone). Many suspects due at once in a wide
    pool: each runs alone in turn, the others handed back and fetched again together, so the
    worker pauses many times with fetches in flight."""
    (tmp_path / "graphs.py").write_text(AUDIT)
    flows = [workflow(tmp_path, "py.audit", "py", "graphs.py#audit", timeoutMs=60_000)]
    write_resolved(tmp_path, [pool("py", runtime="python", concurrency=16, timeoutMs=60_000)], flows)
    report = tmp_path / "report.jsonl"

    async def scenario() -> None:
        (tmp_path / "inflight").mkdir()
        given = {"redis": redis_server.url, "report": str(report), "inflight": str(tmp_path / "inflight")}
        suspects = [envelope("py.audit", given) for _ in range(SUSPECTS)]
        await submit_suspects(redis_server, suspects)
        def ended(run_id: str) -> Callable[[], dict[str, str] | None]:
            return lambda: job_end(redis_server, run_id)

        for run_id in [raw["runId"] for raw in suspects]:
            fields = await wait_for(f"suspect {run_id} to end", ended(run_id), timeout=60)
            assert "returnvalue" in fields, fields.get("failedReason")
            assert json.loads(fields["returnvalue"])["output"] == {"audited": True}
        assert not report.exists(), report.read_text(encoding="utf-8")

    serving = serving_worker(tmp_path, redis_server.url)
    served = next(serving)
    try:
        asyncio.run(scenario())
    finally:
        served.process.kill()
        served.process.wait(10)


SUSPECTS = 16


async def submit_suspects(server: RedisServer, raws: list[dict[str, Any]]) -> None:
    """submit_suspect for many, in one add: all due at the same moment."""
    queue = Queue("switchyard.py", {"connection": server.url, "prefix": "bull"})
    try:
        await queue.addBulk([{"name": raw["workflow"], "data": raw, "opts": {"jobId": raw["runId"], "attempts": 3, "delay": 500}} for raw in raws])
    finally:
        await queue.close()
    with Redis(port=server.port).pipeline() as pipe:
        for raw in raws:
            pipe.hincrby(f"bull:switchyard.py:{raw['runId']}", "ats", 1)
        pipe.execute()


def test_a_fetched_run_is_started_only_while_its_lock_is_still_the_takes(redis_server: RedisServer) -> None:
    """STARTED_LUA, which takes a fetched run's count as not run back as its processor starts it:
    only while BullMQ's lock on the job is still that take's token. A run BullMQ's loop held,
    unprocessed, past its lock may be another worker's by then (redis_source.py let_go())."""
    client = Redis(port=redis_server.port, decode_responses=True)
    started = client.register_script(STARTED_LUA)
    key, lock = unrun_key("bull", "py"), "bull:switchyard.py:r1:lock"
    client.hset(key, "r1", 2)
    client.set(lock, "another-worker:7")
    assert started(keys=[key, lock], args=["r1", "this-worker:3"]) == [0, 0]
    assert client.hget(key, "r1") == "2"
    client.delete(lock)
    assert started(keys=[key, lock], args=["r1", "this-worker:3"]) == [0, 0]
    client.set(lock, "this-worker:3")
    assert started(keys=[key, lock], args=["r1", "this-worker:3"]) == [1, 1]
    assert started(keys=[key, lock], args=["r1", "this-worker:3"]) == [1, 0]
    assert client.hexists(key, "r1") == 0
