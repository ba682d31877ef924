"""Cancelling a running run: what the node worker does, in the same words.

The gateway records a cancel in the pool's `<prefix>:switchyard.<pool>:sy-cancels` sorted set
(member the run id, score the request time, ms) and then PUBLISHes the run id on the pool's
`<prefix>:switchyard.<pool>:sy-cancel` channel (src/data/broker/redis/keys.ts, redis-broker.ts).
A worker that holds the run aborts it; one that does not ignores the message. The set is
what a worker reads when it could not hear: a run starting, or a subscription coming back
after Redis went away. `spec/vectors/cancel.json` holds both languages to these names and
to the error's wording (src/data/broker/run-errors.ts cancelledError).

A run's abort is an `Abort`: the runner cancels the graph's task (an async graph sees
`asyncio.CancelledError`), sets `run.cancelled` (a sync graph on its thread checks it) and
leaves the reason in `run.abort_reason` (node's `signal.reason`).
"""

from __future__ import annotations

import asyncio

from .errors import SwitchyardError


def cancel_channel(prefix: str, pool: str) -> str:
    """The pool's cancel channel: a message is one run id, UTF-8."""
    return f"{prefix}:switchyard.{pool}:sy-cancel"


def cancels_key(prefix: str, pool: str) -> str:
    """The pool's sorted set of cancel requests (member run id, score the request time in ms)."""
    return f"{prefix}:switchyard.{pool}:sy-cancels"


def cancelled_error(run_id: str, when: str = "while running") -> SwitchyardError:
    """CANCELLED, not retryable: a caller asked for it (``when``: 'while queued' | 'while running')."""
    return SwitchyardError("CANCELLED", f"run {run_id} was cancelled {when} (POST /v1/runs/{run_id}/cancel)", retryable=False)


class Abort:
    """One run's abort, set at most once, with the reason the run ends with.

    Made by the run source when a run arrives and handed to the runner; ``abort()`` comes
    from the event loop's thread (a cancel message)."""

    def __init__(self) -> None:
        self.reason: SwitchyardError | None = None
        self._event = asyncio.Event()

    @property
    def aborted(self) -> bool:
        return self.reason is not None

    def abort(self, reason: SwitchyardError) -> None:
        if self.reason is not None:
            return
        self.reason = reason
        self._event.set()

    async def wait(self) -> SwitchyardError:
        await self._event.wait()
        assert self.reason is not None
        return self.reason
