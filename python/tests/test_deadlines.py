"""The Python worker keeps the pool's `sy-deadlines` set as the node worker does (redis_source.py).

The admission script writes each queued run's deadline into the set (here the test writes it,
as ADMIT would); the gateway's expiry pass ends the runs past due that are still queued
(src/data/broker/redis/expiry.ts; a Python pool end to end: test/data/worker/python-deadlines.test.ts).
On real Redis, the real worker (start_worker) in this process, its takes driven one by one
through BullMQ's public manual-processing API (Worker.getNextJob, Worker.processJob: what the
worker's own loop calls), so each state in between can be read:

- a run taken leaves the set (with a lease, or without one), before its graph starts; a
  retryable failure with attempts left writes it back, score the envelope's deadline, before
  BullMQ's backoff; the last attempt does not, nor a failure whose retry would start past the
  deadline (failed at once with its own error, as node's failure(): not left for the expiry
  pass to end DEADLINE_EXCEEDED);
- a run handed back while a suspect holds the process is written back too, and a hand-back
  uses up no attempt and counts no crash: handed back three times with `attempts: 2`, the run
  still fails its first attempt GRAPH_FAILED with a retry left, and its retry runs.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from bullmq import Queue
from redis import Redis

from switchyard_worker.crashes import unrun_key
from switchyard_worker.envelope import deadline_ms
from switchyard_worker.heartbeat import leases_key
from switchyard_worker.redis_source import deadlines_key, start_worker
from switchyard_worker.registry import Registry
from switchyard_worker.runner import PoolRunner
from tests.conftest import SPEC, VERIFY_KEYS, pool, workflow, write_resolved
from tests.test_cancel import RedisServer, envelope, job_end, redis_server, wait_for
from tests.test_solo import run_error, unrun

__all__ = ["redis_server"]  # the fixture this file uses from test_cancel

GRAPHS = '''
import asyncio, pathlib

async def hold(input, run):
    """Marks `<run>.<attempt>.started`, waits for `<run>.<attempt>.go`, fails on the attempts in input["fail"]."""
    base = pathlib.Path(input["dir"], f"{run.run_id}.{run.attempt}")
    pathlib.Path(f"{base}.started").write_text("")
    while not pathlib.Path(f"{base}.go").exists():
        await asyncio.sleep(0.02)
    if run.attempt in input.get("fail", []):
        raise RuntimeError(f"attempt {run.attempt} fails")
    return {"attempt": run.attempt}
'''

DEADLINES = deadlines_key("bull", "py")


@pytest.fixture()
def registry(tmp_path: Path) -> Registry:
    (tmp_path / "graphs.py").write_text(GRAPHS)
    flows = [workflow(tmp_path, "py.hold", "py", "graphs.py#hold", timeoutMs=60_000)]
    return write_resolved(tmp_path, [pool("py", runtime="python", timeoutMs=60_000)], flows)


def test_the_deadlines_vectors_hold_for_the_python_worker() -> None:
    vectors = json.loads((SPEC / "vectors" / "leases.json").read_text(encoding="utf-8"))
    for v in vectors["cases"]:
        assert deadlines_key(v["prefix"], v["pool"]) == v["deadlines"], v["description"]


def entry(server: RedisServer, run_id: str) -> float | None:
    score = Redis(port=server.port).zscore(DEADLINES, run_id)
    return None if score is None else float(score)


def state(server: RedisServer, run_id: str) -> str:
    client = Redis(port=server.port)
    for name in ("active", "wait", "delayed", "completed", "failed"):
        key = f"bull:switchyard.py:{name}"
        found = client.lpos(key, run_id) is not None if name in ("active", "wait") else client.zscore(key, run_id) is not None
        if found:
            return name
    return "unknown"


def attempts_made(server: RedisServer, run_id: str) -> int:
    return int(Redis(port=server.port).hget(f"bull:switchyard.py:{run_id}", "atm") or 0)


async def admit(server: RedisServer, raw: dict[str, Any], opts: dict[str, Any], *, lost: int = 0) -> float:
    """Queued as the gateway queues it: the job, and its deadline entry (ADMIT's ZADD). `lost`
    takes that ended with their worker gone (a reaper's put-back): a suspect. Its deadline in ms."""
    queue = Queue("switchyard.py", {"connection": server.url, "prefix": "bull"})
    try:
        await queue.add(raw["workflow"], raw, {"jobId": raw["runId"], **opts})
    finally:
        await queue.close()
    deadline = deadline_ms(raw["deadline"])
    assert deadline is not None
    client = Redis(port=server.port)
    client.zadd(DEADLINES, {raw["runId"]: deadline})
    if lost:
        client.hincrby(f"bull:switchyard.py:{raw['runId']}", "ats", lost)
    return float(deadline)


class Driver:
    """The real worker of pool `py`, its runs taken one by one by the test."""

    def __init__(self, registry: Registry, server: RedisServer, worker_id: str | None) -> None:
        self.worker, self.cancels = start_worker(PoolRunner(registry, "py", VERIFY_KEYS), server.url, worker_id=worker_id)
        self.takes = 0

    async def take(self, run_id: str) -> asyncio.Future[None]:
        """Take the next run (it must be `run_id`) and process it in the background."""
        async def next_job() -> Any:
            self.takes += 1
            return await self.worker.getNextJob(f"{self.worker.id}:t{self.takes}")

        job = await wait_until(next_job)
        assert job.id == run_id, (job.id, run_id)
        processing: asyncio.Future[None] = asyncio.ensure_future(self.worker.processJob(job, job.token))
        return processing

    async def close(self) -> None:
        await self.worker.close()
        await self.cancels.stop()


async def wait_until(check: Callable[[], Any], timeout: float = 20.0) -> Any:
    """``check`` (a coroutine function) until it returns something."""
    async def poll() -> Any:
        while True:
            value = await check()
            if value:
                return value
            await asyncio.sleep(0.05)

    return await asyncio.wait_for(poll(), timeout)


def go(tmp_path: Path, run_id: str, attempt: int) -> None:
    (tmp_path / f"{run_id}.{attempt}.go").write_text("")


@pytest.mark.parametrize("worker_id", ["build-host:41:0123abcd", None], ids=["leased", "without a lease"])
def test_a_run_taken_leaves_the_deadline_set_and_a_retry_goes_back_into_it_but_not_its_last_attempt(
    registry: Registry, redis_server: RedisServer, tmp_path: Path, worker_id: str | None
) -> None:
    async def scenario() -> None:
        driver = Driver(registry, redis_server, worker_id)
        try:
            raw = envelope("py.hold", {"dir": str(tmp_path), "fail": [1, 2]})
            run_id = raw["runId"]
            deadline = await admit(redis_server, raw, {"attempts": 2, "backoff": {"type": "fixed", "delay": 300}})
            assert entry(redis_server, run_id) == deadline
            first = await driver.take(run_id)
            await wait_for("attempt 1 to start", (tmp_path / f"{run_id}.1.started").exists)
            # Taken: not the expiry pass's (it would find the run active and only drop it).
            assert entry(redis_server, run_id) is None
            if worker_id is not None:
                assert list(Redis(port=redis_server.port, decode_responses=True).hgetall(leases_key("bull", "py", worker_id))) == [run_id]
            go(tmp_path, run_id, 1)
            await first
            # Failed with a retry left: in BullMQ's backoff, and back in the set at its deadline.
            assert state(redis_server, run_id) == "delayed"
            assert entry(redis_server, run_id) == deadline
            second = await driver.take(run_id)
            await wait_for("attempt 2 to start", (tmp_path / f"{run_id}.2.started").exists)
            assert entry(redis_server, run_id) is None
            go(tmp_path, run_id, 2)
            await second
            # The last attempt: failed for good, not queued again, so not in the set.
            assert state(redis_server, run_id) == "failed"
            assert run_error(job_end(redis_server, run_id) or {})["code"] == "GRAPH_FAILED"
            assert entry(redis_server, run_id) is None
        finally:
            await driver.close()

    asyncio.run(scenario())


def test_a_run_handed_back_goes_back_into_the_set_and_uses_up_no_attempt(registry: Registry, redis_server: RedisServer, tmp_path: Path) -> None:
    async def scenario() -> None:
        driver = Driver(registry, redis_server, "build-host:41:0123abcd")
        try:
            # A run in flight, then a suspect beside it: it holds the process, waiting for the run.
            busy = envelope("py.hold", {"dir": str(tmp_path)})
            await admit(redis_server, busy, {"attempts": 1})
            busy_done = await driver.take(busy["runId"])
            await wait_for("the run in flight to start", (tmp_path / f"{busy['runId']}.1.started").exists)
            suspect = envelope("py.hold", {"dir": str(tmp_path)})
            await admit(redis_server, suspect, {"attempts": 3}, lost=1)
            suspect_done = await driver.take(suspect["runId"])
            await wait_for("the suspect to wait, counted unrun", lambda: unrun(redis_server, suspect["runId"]) == "1")

            # A run taken meanwhile is handed back, three times: attempts 2, its first fails.
            raw = envelope("py.hold", {"dir": str(tmp_path), "fail": [1]})
            run_id = raw["runId"]
            deadline = await admit(redis_server, raw, {"attempts": 2, "backoff": {"type": "fixed", "delay": 300}})
            for n in (1, 2, 3):
                await (await driver.take(run_id))
                assert state(redis_server, run_id) == "delayed", n
                assert entry(redis_server, run_id) == deadline, n
                assert attempts_made(redis_server, run_id) == 0, n
                assert unrun(redis_server, run_id) == str(n)
                # A pass that found it active meanwhile dropped its entry: the next hand-back writes it again.
                Redis(port=redis_server.port).zrem(DEADLINES, run_id)
            assert not (tmp_path / f"{run_id}.1.started").exists()

            # The suspect runs alone once the run in flight ends, then the process takes runs again.
            go(tmp_path, busy["runId"], 1)
            await busy_done
            await wait_for("the suspect to start", (tmp_path / f"{suspect['runId']}.1.started").exists)
            go(tmp_path, suspect["runId"], 1)
            await suspect_done
            assert json.loads((job_end(redis_server, suspect["runId"]) or {})["returnvalue"])["output"] == {"attempt": 1}

            # Its first attempt (attempt 1: the hand-backs were none), failing, is retried, no crash counted.
            first = await driver.take(run_id)
            await wait_for("attempt 1 to start", (tmp_path / f"{run_id}.1.started").exists)
            assert entry(redis_server, run_id) is None
            go(tmp_path, run_id, 1)
            await first
            assert state(redis_server, run_id) == "delayed"
            assert entry(redis_server, run_id) == deadline
            fields = Redis(port=redis_server.port, decode_responses=True).hgetall(f"bull:switchyard.py:{run_id}")
            error = run_error({str(k): str(v) for k, v in fields.items()})
            assert (error["code"], error["retryable"]) == ("GRAPH_FAILED", True)
            second = await driver.take(run_id)
            go(tmp_path, run_id, 2)
            await second
            done = job_end(redis_server, run_id)
            assert done is not None and json.loads(done["returnvalue"])["output"] == {"attempt": 2}
            assert entry(redis_server, run_id) is None
        finally:
            await driver.close()

    asyncio.run(scenario())


def test_a_run_whose_retry_would_start_past_its_deadline_fails_at_once_with_its_error_and_leaves_no_entry(
    registry: Registry, redis_server: RedisServer, tmp_path: Path
) -> None:
    async def scenario() -> None:
        driver = Driver(registry, redis_server, "build-host:41:0123abcd")
        try:
            # Attempts left, but BullMQ's backoff (30 s) ends after its deadline (10 s): as node's failure().
            raw = envelope("py.hold", {"dir": str(tmp_path), "fail": [1]}, deadline_in=10)
            run_id = raw["runId"]
            await admit(redis_server, raw, {"attempts": 2, "backoff": {"type": "exponential", "delay": 15_000}})
            first = await driver.take(run_id)
            go(tmp_path, run_id, 1)
            await first
            # Not left in the delayed set for the expiry pass to end DEADLINE_EXCEEDED, hiding its error.
            assert state(redis_server, run_id) == "failed"
            error = run_error(job_end(redis_server, run_id) or {})
            assert (error["code"], error["message"]) == ("GRAPH_FAILED", "attempt 1 fails")
            assert entry(redis_server, run_id) is None
            # It ran and ends for good: marked finished, so a replay before its deadline is refused (node's willNotRetry).
            assert Redis(port=redis_server.port).zscore("bull:switchyard.py:sy-finished", run_id) is not None
        finally:
            await driver.close()

    asyncio.run(scenario())


@pytest.mark.parametrize(("unrun_takes", "code"), [(2, "DEADLINE_EXCEEDED"), (1, "WORKER_LOST")])
def test_a_run_refused_on_its_final_take_forgets_its_takes_not_run(
    registry: Registry, redis_server: RedisServer, tmp_path: Path, unrun_takes: int, code: str
) -> None:
    """Taken twice before and not run (`sy-unrun`), or once and lost with its worker: refused past its
    deadline, with attempts left, it ends for good, and its `sy-unrun` field goes with it (node's worker alike)."""

    async def scenario() -> None:
        driver = Driver(registry, redis_server, "build-host:42:0123abcd")
        try:
            raw = envelope("py.hold", {"dir": str(tmp_path)}, deadline_in=0.3)
            run_id = raw["runId"]
            await admit(redis_server, raw, {"attempts": 3}, lost=2)
            Redis(port=redis_server.port).hset(unrun_key("bull", "py"), run_id, unrun_takes)
            await asyncio.sleep(0.5)
            await (await driver.take(run_id))
            assert state(redis_server, run_id) == "failed"
            assert run_error(job_end(redis_server, run_id) or {})["code"] == code
            assert not (tmp_path / f"{run_id}.1.started").exists()
            assert unrun(redis_server, run_id) is None
        finally:
            await driver.close()

    asyncio.run(scenario())
