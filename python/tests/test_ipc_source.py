"""The worker's side of `switchyard dev`'s channel (fd 3, JSON lines, the node workers'
IPC protocol), on a real socket pair: ready, runs and outcomes by id, junk ignored,
the drain handshake, and the parent's end closing."""

import asyncio
import json
import socket
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from switchyard_worker.ipc_source import IpcSource
from switchyard_worker.registry import Registry
from switchyard_worker.runner import PoolRunner
from tests.conftest import VERIFY_KEYS, pool, sign, workflow, write_resolved

KEY = VERIFY_KEYS


@pytest.fixture()
def registry(tmp_path: Path) -> Registry:
    (tmp_path / "g.py").write_text("import asyncio\n\nasync def echo(input, run):\n    await asyncio.sleep(input.get('s', 0))\n    return {'echo': input}\n")
    return write_resolved(tmp_path, [pool("py", runtime="python")], [workflow(tmp_path, "py.echo", "py", "g.py#echo")])


def envelope(run_id: str, input: Any) -> dict[str, Any]:
    deadline = datetime.fromtimestamp(time.time() + 10, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    raw = {
        "v": 1, "runId": run_id, "workflow": "py.echo", "pool": "py", "graph": "g.py#echo", "input": input,
        "registry": "sha256:" + "ab" * 32, "deadline": deadline, "attempt": 1, "maxAttempts": 1,
        "trace": {"traceparent": "", "tracestate": "", "baggage": ""}, "idempotencyKey": None, "sig": "",
    }
    return sign(raw)


async def read_message(reader: asyncio.StreamReader) -> dict[str, Any]:
    line = await asyncio.wait_for(reader.readline(), 10)
    assert line, "the channel closed"
    message: dict[str, Any] = json.loads(line)
    return message


def test_runs_and_outcomes_by_id_junk_ignored_then_drained(registry: Registry) -> None:
    async def scenario() -> None:
        parent, child = socket.socketpair()
        source = IpcSource(PoolRunner(registry, "py", KEY), child.detach(), concurrency=3)
        await source.start()
        reader, writer = await asyncio.open_unix_connection(sock=parent)
        assert await read_message(reader) == {"t": "ready", "concurrency": 3}
        # Junk and unknown messages are ignored; two runs answer by their own ids, the fast one first.
        writer.write(b"not json\n" + b'{"t":"nonsense"}\n' + b"\n")
        writer.write(json.dumps({"t": "run", "id": 7, "raw": envelope("slow", {"s": 0.3}), "attempt": 1, "queued": 4}).encode() + b"\n")
        writer.write(json.dumps({"t": "run", "id": 8, "raw": envelope("fast", {"n": "😀"}), "attempt": 1, "queued": 3}).encode() + b"\n")
        writer.write(json.dumps({"t": "run", "id": 9, "raw": {"v": 1}, "attempt": 1, "queued": 2}).encode() + b"\n")
        await writer.drain()
        answers = {m["id"]: m for m in [await read_message(reader) for _ in range(3)]}
        assert answers[8]["outcome"] == {"ok": True, "output": {"echo": {"n": "😀"}}}
        assert answers[7]["outcome"] == {"ok": True, "output": {"echo": {"s": 0.3}}}
        assert answers[9]["outcome"]["ok"] is False and answers[9]["outcome"]["error"]["code"] == "INVALID_ENVELOPE"
        assert source.queued == 2
        # Drain: `draining`, then (after the ack) a run already sent still runs, then the channel closes.
        writer.write(json.dumps({"t": "run", "id": 10, "raw": envelope("late", {"s": 0.2}), "attempt": 1, "queued": 0}).encode() + b"\n")
        await writer.drain()
        draining = asyncio.ensure_future(source.drain())
        messages = [await read_message(reader) for _ in range(2)]
        assert {"t": "draining"} in messages
        writer.write(b'{"t":"drain-ack"}\n')
        await writer.drain()
        await asyncio.wait_for(draining, 10)
        rest = [json.loads(line) for line in (await reader.read()).splitlines()]
        outcomes = [m for m in messages + rest if m.get("t") == "outcome"]
        assert [o["id"] for o in outcomes] == [10] and outcomes[0]["outcome"]["ok"] is True
        writer.close()

    asyncio.run(scenario())


def test_the_parents_end_closing_stops_the_source(registry: Registry) -> None:
    async def scenario() -> None:
        parent, child = socket.socketpair()
        source = IpcSource(PoolRunner(registry, "py", KEY), child.detach(), concurrency=1)
        await source.start()
        parent.close()
        await asyncio.wait_for(source.closed(), 10)
        await source.close()

    asyncio.run(scenario())


def test_a_cancel_aborts_the_run_it_names_with_the_parents_words_and_is_ignored_for_others(registry: Registry) -> None:
    async def scenario() -> None:
        parent, child = socket.socketpair()
        source = IpcSource(PoolRunner(registry, "py", KEY), child.detach(), concurrency=2)
        await source.start()
        reader, writer = await asyncio.open_unix_connection(sock=parent)
        assert (await read_message(reader))["t"] == "ready"
        words = "run long was cancelled while running (POST /v1/runs/long/cancel)"
        writer.write(json.dumps({"t": "run", "id": 1, "raw": envelope("long", {"s": 30}), "attempt": 1, "queued": 0}).encode() + b"\n")
        writer.write(json.dumps({"t": "run", "id": 2, "raw": envelope("short", {"s": 0.3}), "attempt": 1, "queued": 0}).encode() + b"\n")
        # Not in flight here, or malformed: ignored.
        writer.write(b'{"t":"cancel","id":99,"message":"no such run"}\n{"t":"cancel","id":"2","message":"x"}\n{"t":"cancel","id":2}\n')
        await writer.drain()
        await asyncio.sleep(0.1)
        writer.write(json.dumps({"t": "cancel", "id": 1, "message": words}).encode() + b"\n")
        await writer.drain()
        started = time.monotonic()
        first = await read_message(reader)
        assert first == {"t": "outcome", "id": 1, "outcome": {"ok": False, "error": {"code": "CANCELLED", "message": words, "retryable": False}}}
        assert time.monotonic() - started < 10  # not its 30 s
        second = await read_message(reader)
        assert second == {"t": "outcome", "id": 2, "outcome": {"ok": True, "output": {"echo": {"s": 0.3}}}}
        writer.close()
        await source.close()

    asyncio.run(scenario())
