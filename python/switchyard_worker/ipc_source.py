"""Runs fed by `switchyard dev` (the embedded broker), over a local channel.

The same protocol the node workers speak over Node's IPC channel
(src/data/broker/memory/ipc-protocol.ts), as newline-delimited JSON on a socket the
supervisor hands this process as file descriptor 3:

  parent → child   {"t":"run","id":n,"raw":envelope,"attempt":n,"queued":n}
                   {"t":"cancel","id":n,"message":text}   (a caller cancelled run n: CANCELLED, not retryable)
                   {"t":"depth","queued":n}      {"t":"drain-ack"}
  child → parent   {"t":"ready","concurrency":n}
                   {"t":"outcome","id":n,"outcome":{"ok":true,"output":…} | {"ok":false,"error":{code,message,retryable}}}
                   {"t":"draining"}

Draining (SIGTERM): say `draining`, wait for `drain-ack` (runs sent before it still
arrive and still run), finish what is in flight, close. The channel closing means the
parent died: nobody can take a result any more, so in-flight runs are cancelled.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from typing import Any

from .cancel import Abort
from .errors import SwitchyardError
from .runner import Outcome, PoolRunner

log = logging.getLogger("switchyard_worker")

#: The largest message the parent may send (an envelope with its input).
LINE_LIMIT = 256 * 1024 * 1024


def outcome_message(run_id: int, outcome: Outcome) -> dict[str, Any]:
    if outcome.ok:
        return {"t": "outcome", "id": run_id, "outcome": {"ok": True, "output": outcome.output}}
    error = {"code": outcome.code, "message": outcome.message, "retryable": outcome.retryable}
    return {"t": "outcome", "id": run_id, "outcome": {"ok": False, "error": error}}


def encode(message: dict[str, Any]) -> bytes:
    # ASCII escapes: a lone surrogate in an output still crosses as valid JSON.
    return (json.dumps(message, separators=(",", ":"), allow_nan=False) + "\n").encode("ascii")


class IpcSource:
    """Serves one pool's runs from the parent's channel until drained or disconnected."""

    def __init__(self, runner: PoolRunner, fd: int, concurrency: int) -> None:
        self.runner = runner
        self.fd = fd
        self.concurrency = concurrency
        self.queued = 0
        self._tasks: set[asyncio.Task[None]] = set()
        #: Runs in flight: the parent's id → the run's abort.
        self._aborts: dict[int, Abort] = {}
        self._acked = asyncio.Event()
        self._closed = asyncio.Event()
        self._writer: asyncio.StreamWriter | None = None
        self._reader_task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        sock = socket.socket(fileno=self.fd)
        reader, self._writer = await asyncio.open_unix_connection(sock=sock, limit=LINE_LIMIT)
        self._reader_task = asyncio.ensure_future(self._read(reader))
        await self._send({"t": "ready", "concurrency": self.concurrency})

    async def _send(self, message: dict[str, Any]) -> None:
        writer = self._writer
        if writer is None or writer.is_closing():
            return
        try:
            data = encode(message)
        except (TypeError, ValueError) as error:
            # Never leave the parent waiting: a result that cannot cross is a failed run.
            reason = f"the run's outcome cannot be sent to the broker process: {error}"
            error_body = {"code": "INTERNAL", "message": reason, "retryable": False}
            data = encode({"t": "outcome", "id": message.get("id"), "outcome": {"ok": False, "error": error_body}})
        try:
            writer.write(data)
            await writer.drain()
        except ConnectionError:
            self._closed.set()

    async def _read(self, reader: asyncio.StreamReader) -> None:
        try:
            while True:
                line = await reader.readline()
                if not line:
                    break
                try:
                    message = json.loads(line)
                except ValueError:
                    log.warning("ignored a line from the broker process that is not JSON")
                    continue
                self._dispatch(message)
        except (ConnectionError, asyncio.LimitOverrunError, ValueError) as error:
            log.warning("the channel to the broker process failed: %s", error)
        finally:
            self._closed.set()
            self._acked.set()

    def _dispatch(self, message: Any) -> None:
        kind = message.get("t") if isinstance(message, dict) else None
        if kind == "drain-ack":
            self._acked.set()
        elif kind == "depth":
            self.queued = int(message.get("queued") or 0)
        elif kind == "cancel":
            # A run no longer (or never) here is ignored; the message is the parent's wording of the cancel.
            abort = self._aborts.get(message.get("id")) if isinstance(message.get("id"), int) else None
            text = message.get("message")
            if abort is not None and isinstance(text, str):
                abort.abort(SwitchyardError("CANCELLED", text, retryable=False))
        elif kind == "run":
            self.queued = int(message.get("queued") or 0)
            run_id = message.get("id")
            abort = Abort()
            if isinstance(run_id, int):
                self._aborts[run_id] = abort
            task = asyncio.ensure_future(self._run(message, abort))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _run(self, message: dict[str, Any], abort: Abort) -> None:
        run_id = message.get("id")
        attempt = message.get("attempt")
        try:
            outcome = await self.runner.handle(message.get("raw"), attempt if isinstance(attempt, int) else 1, abort=abort)
        finally:
            if isinstance(run_id, int) and self._aborts.get(run_id) is abort:
                del self._aborts[run_id]
        await self._send(outcome_message(run_id if isinstance(run_id, int) else -1, outcome))

    def in_flight(self) -> int:
        return len(self._tasks)

    async def closed(self) -> None:
        """Resolves when the parent closed the channel (it died, or it is shutting down hard)."""
        await self._closed.wait()

    async def drain(self) -> None:
        """No new runs; in-flight ones finish and their outcomes are sent; then close."""
        await self._send({"t": "draining"})
        await self._acked.wait()
        if self._tasks:
            await asyncio.wait(list(self._tasks))
        await self._close()

    async def close(self) -> None:
        """Hard stop: cancel what is in flight (its results have nowhere to go)."""
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks))
        await self._close()

    async def _close(self) -> None:
        if self._writer is not None and not self._writer.is_closing():
            self._writer.close()
            try:
                await self._writer.wait_closed()
            except ConnectionError:
                pass
        if self._reader_task is not None:
            self._reader_task.cancel()
