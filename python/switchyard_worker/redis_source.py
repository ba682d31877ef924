"""The pool's BullMQ queue on Redis, read as src/data/redis-run-source.ts reads it.

Job: name = workflow, data = the envelope, id = runId, attempts/backoff set by the
producer (RedisBroker). Settling, as src/data/redis-record.ts expects:
  ok            → return {"switchyard.result": 1, output, startedAt, finishedAt, attempts}
  retryable     → raise Exception("switchyard.run-error:" + JSON) — BullMQ retries with backoff
  not retryable → raise UnrecoverableError(same text) — failed at once (dead letter)
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from bullmq import UnrecoverableError, Worker
from redis import asyncio as redis_asyncio

from .envelope import deadline_ms
from .runner import Outcome, PoolRunner

RUN_ERROR_TAG = "switchyard.run-error:"
log = logging.getLogger("switchyard_worker")


def queue_name(pool: str) -> str:
    """The queue of a pool (src/control/registry-rules.ts queueName)."""
    return f"switchyard.{pool}"


def encode_run_error(outcome: Outcome, stamp: dict[str, int]) -> str:
    body = {"code": outcome.code, "message": outcome.message, "retryable": outcome.retryable, **stamp}
    return RUN_ERROR_TAG + json.dumps(body, separators=(",", ":"), ensure_ascii=False)


def settle(outcome: Outcome, job: Any, started_at: int) -> dict[str, Any]:
    """The job's return value for a success; raises the BullMQ error for a failure."""
    # attemptsStarted already counts this attempt; a run retaken from a dead worker counts the lost one too.
    stamp = {
        "startedAt": int(job.processedOn or started_at),
        "finishedAt": int(time.time() * 1000),
        "attempts": max(int(job.attemptsStarted or 0), int(job.attemptsMade or 0) + 1),
    }
    if outcome.ok:
        return {"switchyard.result": 1, "output": outcome.output, **stamp}
    message = encode_run_error(outcome, stamp)
    raise Exception(message) if outcome.retryable else UnrecoverableError(message)


def start_worker(runner: PoolRunner, url: str, *, prefix: str = "bull", concurrency: int | None = None, name: str | None = None) -> Worker:
    """A BullMQ Worker serving the runner's pool (close it with ``await worker.close()``).

    ``name`` names its Redis connections (`<prefix>:<queue>:w:<name>`), one name per process.
    The broker counts workers by their heartbeats (heartbeat.py), not by connections."""

    # Runs this pool finished, until their signed deadlines: the node worker's `sy-finished` (issue 12.4).
    finished_key = f"{prefix}:{queue_name(runner.pool.name)}:sy-finished"
    client = redis_asyncio.from_url(url)

    async def process(job: Any, _token: str) -> dict[str, Any]:
        started_at = int(time.time() * 1000)
        run_id = str(job.id) if job.id is not None else None
        finished = run_id is not None and await client.zscore(finished_key, run_id) is not None
        outcome = await runner.handle(job.data, int(job.attemptsMade or 0) + 1, run_id, finished)
        attempts = int((job.opts or {}).get("attempts") or 1)
        final = outcome.ok or (not outcome.refused and (not outcome.retryable or int(job.attemptsMade or 0) + 1 >= attempts))
        deadline = deadline_ms(str((job.data or {}).get("deadline", ""))) if isinstance(job.data, dict) else None
        if final and run_id is not None and deadline:
            await client.zremrangebyscore(finished_key, "-inf", int(time.time() * 1000))
            await client.zadd(finished_key, {run_id: deadline})
        return settle(outcome, job, started_at)

    worker = Worker(
        queue_name(runner.pool.name),
        process,
        {
            "connection": url,
            "prefix": prefix,
            "concurrency": concurrency or runner.pool.concurrency,
            "lockDuration": 30_000,
            "stalledInterval": 30_000,
            "maxStalledCount": 1,
            "autorun": False,
            **({"name": name} if name else {}),
        },
    )
    # Redis hiccups are reported and retried by BullMQ: a worker keeps serving through them.
    worker.on("error", lambda error, *_: log.warning("Redis worker for pool '%s': %s", runner.pool.name, error))
    return worker
