"""Cancelling a running Python run, as the node worker does.

- spec/vectors/cancel.json: the channel, the cancel set and the error's words (the gateway's
  and node's side: test/data/broker/redis/cancel-vectors.test.ts).
- The runner: an async graph's task is cancelled, a sync graph sees run.cancelled, both read
  run.abort_reason; a graph that ignores the abort is let go at its deadline; the run ends
  CANCELLED (not retryable) whatever the graph did after it.
- On real Redis, a real worker process: a cancel published on the pool's channel stops the run
  holding it (the job fails with the run error node writes, so the gateway reads `cancelled`);
  a cancel for a run it does not hold is ignored; the subscription comes back after a kill -9
  of Redis, and a cancel recorded while nobody listened is found when it does.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from bullmq import Queue
from redis import Redis

from switchyard_worker.cancel import Abort, cancel_channel, cancelled_error, cancels_key
from switchyard_worker.redis_source import RUN_ERROR_TAG
from switchyard_worker.registry import Registry
from switchyard_worker.runner import PoolRunner
from tests.conftest import SPEC, TEST_KEYS, VERIFY_KEYS, pool, sha256_of, sign, workflow, write_resolved

PYTHON_ROOT = Path(__file__).resolve().parents[1]

GRAPHS = textwrap.dedent('''
    import asyncio, json, pathlib, time

    def _mark(input, run, name, body=""):
        pathlib.Path(input["dir"], f"{run.run_id}.{name}").write_text(body)

    def _reason(run):
        r = run.abort_reason
        return json.dumps({"code": r.code, "message": r.message, "retryable": r.retryable, "event": run.cancelled.is_set()})

    async def watch(input, run):
        _mark(input, run, "started")
        try:
            await asyncio.sleep(input.get("sleep", 60))
        except asyncio.CancelledError:
            _mark(input, run, "aborted", _reason(run))
            if input.get("stubborn"):
                await asyncio.sleep(input["stubborn"])  # ignores the abort
                _mark(input, run, "ended")
                return {"late": True}
            raise
        return {"slept": True}

    def polite(input, run):
        _mark(input, run, "started")
        if run.cancelled.wait(input.get("sleep", 60)):
            _mark(input, run, "aborted", _reason(run))
        return {"done": True}
''')


def when(seconds: float) -> str:
    return datetime.fromtimestamp(time.time() + seconds, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def envelope(workflow_name: str, input: Any, *, run_id: str | None = None, deadline_in: float = 60.0) -> dict[str, Any]:
    raw = {
        "v": 1, "runId": run_id or str(uuid.uuid4()), "workflow": workflow_name, "pool": "py", "graph": "graphs.py#x", "input": input,
        "registry": "sha256:" + "ab" * 32, "deadline": when(deadline_in), "attempt": 1, "maxAttempts": 1,
        "trace": {"traceparent": "", "tracestate": "", "baggage": ""}, "idempotencyKey": None, "sig": "",
    }
    return sign(raw)


@pytest.fixture()
def registry(tmp_path: Path) -> Registry:
    (tmp_path / "graphs.py").write_text(GRAPHS)
    flows = [workflow(tmp_path, f"py.{name}", "py", f"graphs.py#{name}", timeoutMs=60_000) for name in ("watch", "polite")]
    return write_resolved(tmp_path, [pool("py", runtime="python", timeoutMs=60_000)], flows)


async def wait_for(what: str, check: Callable[[], Any], timeout: float = 20.0) -> Any:
    until = time.monotonic() + timeout
    while time.monotonic() < until:
        value = check()
        if value:
            return value
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


# ── the vectors ─────────────────────────────────────────────────────────────────────────


def test_the_cancel_vectors_hold_for_the_python_worker() -> None:
    vectors = json.loads((SPEC / "vectors" / "cancel.json").read_text(encoding="utf-8"))
    assert len(vectors["cases"]) >= 2
    for v in vectors["cases"]:
        assert cancel_channel(v["prefix"], v["pool"]) == v["channel"], v["description"]
        assert cancels_key(v["prefix"], v["pool"]) == v["cancels"], v["description"]
        assert v["message"] == v["runId"]
        error = cancelled_error(v["runId"])
        assert {"code": error.code, "retryable": error.retryable, "message": error.message} == v["error"], v["description"]
        assert cancelled_error(v["runId"], "while queued").message == v["whenQueued"]


# ── the runner ──────────────────────────────────────────────────────────────────────────


def run_cancelled(registry: Registry, raw: dict[str, Any], cancel_after: Callable[[], bool] | float, *, abort_first: bool = False) -> Any:
    async def scenario() -> Any:
        abort = Abort()
        if abort_first:
            abort.abort(cancelled_error(raw["runId"]))
        handling = asyncio.ensure_future(PoolRunner(registry, "py", VERIFY_KEYS).handle(raw, 1, raw["runId"], abort=abort))
        if not abort_first:
            if callable(cancel_after):
                await wait_for("the graph to start", cancel_after)
            else:
                await asyncio.sleep(cancel_after)
            abort.abort(cancelled_error(raw["runId"]))
        return await handling

    return asyncio.run(scenario())


def test_an_async_graph_sees_its_task_cancelled_with_the_reason_and_the_run_ends_cancelled(registry: Registry, tmp_path: Path) -> None:
    raw = envelope("py.watch", {"dir": str(tmp_path)})
    started = time.monotonic()
    outcome = run_cancelled(registry, raw, lambda: (tmp_path / f"{raw['runId']}.started").exists())
    assert time.monotonic() - started < 30  # not its 60 s sleep
    expected = cancelled_error(raw["runId"])
    assert (outcome.ok, outcome.code, outcome.message, outcome.retryable, outcome.refused) == (False, "CANCELLED", expected.message, False, False)
    seen = json.loads((tmp_path / f"{raw['runId']}.aborted").read_text())
    assert seen == {"code": "CANCELLED", "message": expected.message, "retryable": False, "event": True}


def test_a_sync_graph_sees_run_cancelled_set_with_the_reason(registry: Registry, tmp_path: Path) -> None:
    raw = envelope("py.polite", {"dir": str(tmp_path)})
    outcome = run_cancelled(registry, raw, lambda: (tmp_path / f"{raw['runId']}.started").exists())
    assert (outcome.code, outcome.retryable) == ("CANCELLED", False)
    marker = tmp_path / f"{raw['runId']}.aborted"
    for _ in range(500):  # the thread notices at its next wait
        if marker.exists():
            break
        time.sleep(0.01)
    assert json.loads(marker.read_text())["code"] == "CANCELLED"


def test_a_run_cancelled_before_its_graph_starts_never_starts_it(registry: Registry, tmp_path: Path) -> None:
    raw = envelope("py.watch", {"dir": str(tmp_path)})
    outcome = run_cancelled(registry, raw, 0, abort_first=True)
    assert (outcome.code, outcome.retryable) == ("CANCELLED", False)
    assert not (tmp_path / f"{raw['runId']}.started").exists()


def test_a_graph_that_ignores_the_abort_is_let_go_at_its_deadline_and_the_run_still_ends_cancelled(registry: Registry, tmp_path: Path) -> None:
    # It swallows the cancellation and sleeps 30 s more; its deadline is 3 s away.
    raw = envelope("py.watch", {"dir": str(tmp_path), "stubborn": 30}, deadline_in=3)
    started = time.monotonic()
    outcome = run_cancelled(registry, raw, lambda: (tmp_path / f"{raw['runId']}.started").exists())
    assert (outcome.code, outcome.retryable) == ("CANCELLED", False)
    assert (tmp_path / f"{raw['runId']}.aborted").exists()
    assert not (tmp_path / f"{raw['runId']}.ended").exists()  # settled before the graph's end
    assert time.monotonic() - started < 25


def test_a_graph_that_finishes_after_the_cancel_does_not_turn_the_run_into_a_success(registry: Registry, tmp_path: Path) -> None:
    # It notices the abort after a short while and returns an output anyway.
    raw = envelope("py.watch", {"dir": str(tmp_path), "stubborn": 0.2})
    outcome = run_cancelled(registry, raw, lambda: (tmp_path / f"{raw['runId']}.started").exists())
    assert (outcome.ok, outcome.code) == (False, "CANCELLED")
    assert (tmp_path / f"{raw['runId']}.ended").exists()


# ── a real worker process on real Redis ─────────────────────────────────────────────────


def redis_skip() -> None:
    if shutil.which("redis-server"):
        return
    if os.environ.get("CI"):
        raise AssertionError("redis-server is not installed, and CI must run the Redis tests")
    pytest.skip("redis-server is not installed (apt-get install -y redis-server)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class RedisServer:
    port: int
    dir: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def start(self) -> None:
        # AOF on every write: a kill -9 loses nothing, so a restart is an outage, not a new server.
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir), "--save", "",
             "--appendonly", "yes", "--appendfsync", "always", "--maxmemory-policy", "noeviction"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        until = time.monotonic() + 10
        while time.monotonic() < until:
            try:
                if Redis(port=self.port, socket_connect_timeout=0.5).ping():
                    return
            except Exception:  # noqa: BLE001 - not up yet
                time.sleep(0.05)
        raise AssertionError(f"redis-server did not start on {self.port}")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)


@pytest.fixture()
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    redis_skip()
    folder = tmp_path / "redis"
    folder.mkdir()
    server = RedisServer(free_port(), folder)
    server.start()
    yield server
    server.kill()


@dataclass
class Worker:
    process: subprocess.Popen[str]
    output: list[str]


def serving_worker(tmp_path: Path, redis_url: str) -> Iterator[Worker]:
    """A python worker process of pool 'py' on `redis_url`, once it serves; killed after."""
    env = {**os.environ, "SWITCHYARD_VERIFY_KEYS": TEST_KEYS["verifyKeys"], "PYTHONPATH": str(PYTHON_ROOT), "OTEL_SDK_DISABLED": "true"}
    resolved = tmp_path / ".switchyard" / "switchyard.yaml.resolved.json"
    command = [sys.executable, "-m", "switchyard_worker", "--registry", str(resolved), "--registry-sha256", sha256_of(resolved)]
    process = subprocess.Popen(
        [*command, "--pool", "py", "--redis", redis_url, "--port", "-1"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    output: list[str] = []
    assert process.stdout is not None
    for line in process.stdout:
        output.append(line)
        if line.startswith("switchyard python worker:"):
            break
    else:
        raise AssertionError("the worker exited before serving:\n" + "".join(output))
    os.set_blocking(process.stdout.fileno(), False)
    yield Worker(process, output)
    process.send_signal(signal.SIGKILL)
    process.wait(10)


@pytest.fixture()
def worker(registry: Registry, redis_server: RedisServer, tmp_path: Path) -> Iterator[Worker]:
    yield from serving_worker(tmp_path, redis_server.url)


def job_end(server: RedisServer, run_id: str) -> dict[str, str] | None:
    """The job's failedReason or returnvalue once BullMQ settled it (the hash the gateway's record reads)."""
    job = Redis(port=server.port, decode_responses=True).hgetall(f"bull:switchyard.py:{run_id}")
    fields = {str(k): str(v) for k, v in job.items()}
    return fields if "finishedOn" in fields else None


def cancel(server: RedisServer, run_id: str, *, publish: bool = True) -> int:
    """What the gateway does (redis-broker.ts cancelRun) for a running run: record, then publish."""
    client = Redis(port=server.port)
    client.zadd(cancels_key("bull", "py"), {run_id: int(time.time() * 1000)})
    return int(client.publish(cancel_channel("bull", "py"), run_id)) if publish else 0


def assert_cancelled(fields: dict[str, str], run_id: str) -> None:
    reason = fields["failedReason"]
    assert reason.startswith(RUN_ERROR_TAG), fields.get("stacktrace", reason)
    error = json.loads(reason[len(RUN_ERROR_TAG):])
    assert (error["code"], error["message"], error["retryable"]) == ("CANCELLED", cancelled_error(run_id).message, False)


def subscribers(server: RedisServer) -> int:
    try:
        [(_, count)] = Redis(port=server.port, socket_connect_timeout=0.5).pubsub_numsub(cancel_channel("bull", "py"))
        return int(count)
    except Exception:  # noqa: BLE001 - Redis is down
        return 0


async def submit(server: RedisServer, raw: dict[str, Any]) -> None:
    queue = Queue("switchyard.py", {"connection": server.url, "prefix": "bull"})
    try:
        await queue.add(raw["workflow"], raw, {"jobId": raw["runId"], "attempts": 1})
    finally:
        await queue.close()


def test_a_cancel_on_the_pools_channel_stops_the_run_holding_it_and_others_are_ignored(
    worker: Worker, redis_server: RedisServer, tmp_path: Path
) -> None:
    async def scenario() -> None:
        await wait_for("the worker to subscribe", lambda: subscribers(redis_server) == 1)
        target = envelope("py.watch", {"dir": str(tmp_path)})
        other = envelope("py.watch", {"dir": str(tmp_path), "sleep": 1.5})
        for raw in (target, other):
            await submit(redis_server, raw)
        for run_id in (target["runId"], other["runId"]):
            await wait_for("the graph to start", (tmp_path / f"{run_id}.started").exists)
        # Not held here: a run of no one, junk bytes; the worker keeps both runs.
        assert cancel(redis_server, "no-such-run") == 1
        Redis(port=redis_server.port).publish(cancel_channel("bull", "py"), b"\xff\xfe junk")
        assert cancel(redis_server, target["runId"]) == 1
        fields = await wait_for("the cancelled run to settle", lambda: job_end(redis_server, target["runId"]))
        assert_cancelled(fields, target["runId"])
        seen = json.loads((tmp_path / f"{target['runId']}.aborted").read_text())
        assert (seen["code"], seen["message"]) == ("CANCELLED", cancelled_error(target["runId"]).message)
        # The other run was not touched: it ends as its graph says.
        done = await wait_for("the other run to settle", lambda: job_end(redis_server, other["runId"]))
        assert json.loads(done["returnvalue"])["output"] == {"slept": True}
        assert not (tmp_path / f"{other['runId']}.aborted").exists()
        # Cancelled, the run is finished: recorded in sy-finished as node records it.
        assert Redis(port=redis_server.port).zscore("bull:switchyard.py:sy-finished", target["runId"]) is not None

    asyncio.run(scenario())


def test_a_run_cancelled_before_it_reached_the_worker_never_starts(worker: Worker, redis_server: RedisServer, tmp_path: Path) -> None:
    async def scenario() -> None:
        raw = envelope("py.watch", {"dir": str(tmp_path)})
        # Recorded (the cancel set) but not heard: a worker reads the set as the run starts.
        cancel(redis_server, raw["runId"], publish=False)
        await submit(redis_server, raw)
        fields = await wait_for("the run to settle", lambda: job_end(redis_server, raw["runId"]))
        assert_cancelled(fields, raw["runId"])
        assert not (tmp_path / f"{raw['runId']}.started").exists()

    asyncio.run(scenario())


def test_the_subscription_comes_back_after_redis_restarts_and_catches_up_on_missed_cancels(
    worker: Worker, redis_server: RedisServer, tmp_path: Path
) -> None:
    async def scenario() -> None:
        await wait_for("the worker to subscribe", lambda: subscribers(redis_server) == 1)
        first = envelope("py.watch", {"dir": str(tmp_path)})
        await submit(redis_server, first)
        await wait_for("the graph to start", lambda: (tmp_path / f"{first['runId']}.started").exists())
        # kill -9 Redis mid-run; restarted on its own data and port, the worker subscribes again.
        redis_server.kill()
        await asyncio.sleep(1)
        redis_server.start()
        await wait_for("the worker to subscribe again", lambda: subscribers(redis_server) == 1, timeout=30)
        assert cancel(redis_server, first["runId"]) == 1
        fields = await wait_for("the run to settle cancelled", lambda: job_end(redis_server, first["runId"]), timeout=30)
        assert_cancelled(fields, first["runId"])
        assert (tmp_path / f"{first['runId']}.aborted").exists()

        # A cancel recorded while the worker was not listening (its subscription killed, the
        # publish reaching no one) is found when it subscribes again.
        second = envelope("py.watch", {"dir": str(tmp_path)})
        await submit(redis_server, second)
        await wait_for("the graph to start", lambda: (tmp_path / f"{second['runId']}.started").exists())
        cancel(redis_server, second["runId"], publish=False)
        Redis(port=redis_server.port).client_kill_filter(_type="pubsub")
        fields = await wait_for("the missed cancel to be found", lambda: job_end(redis_server, second["runId"]), timeout=30)
        assert_cancelled(fields, second["runId"])

    asyncio.run(scenario())
