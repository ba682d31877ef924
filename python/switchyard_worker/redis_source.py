"""The pool's BullMQ queue on Redis, read as src/data/redis-run-source.ts reads it.

Job: name = workflow, data = the envelope, id = runId, attempts/backoff set by the
producer (RedisBroker). Settling, as src/data/redis-record.ts expects:
  ok            → return {"switchyard.result": 1, output, startedAt, finishedAt, attempts}
  retryable     → raise Exception("switchyard.run-error:" + JSON) — BullMQ retries with backoff
                  (only while the retry would start before the deadline, as node's failure())
  not retryable → raise UnrecoverableError(same text) — failed at once (dead letter)

Each run's lease (run id → the lock token BullMQ's Worker holds for its job) is in the
process's `sy-leases:<worker id>` hash from the moment BullMQ fetches it (its 'active' event,
before any processor sees it) and removed when the run ends, as the node worker does
(heartbeat.py). Leased at the fetch, not when its processor begins: BullMQ's loop holds a run
it fetched just as the worker paused until the worker resumes, and a suspect (below) that
took the process down meanwhile left that run active with no lease. Until its processor
starts it, the take is also counted as not run (crashes.py), so the reaper does not count
it a crash. BullMQ does not renew the lock of a run its loop holds so: one held past its
lock (a suspect that held the process over a minute) may have been given to another worker
by the stalled check, and is let go unrun (let_go()). With its lease, a supervisor that
sees this process die, or the gateway once its heartbeat expires (this worker reaps nothing
itself), puts its runs back in the queue at once, or ends them (WORKER_CRASHED,
WORKER_LOST), rather than BullMQ's stalled check a lock duration later.

Beside the BullMQ Worker, a CancelListener subscribes to the pool's cancel channel (cancel.py)
and aborts the runs this process holds; a run also reads the pool's cancel set as it starts.

A suspect (a run whose worker already died under it once: crashes.py) runs alone in its
process, as the node worker's does: the worker stops taking runs (BullMQ's local pause), waits
for the ones in flight here to end, runs it, and takes runs again. A run that comes while a
suspect holds the process is handed back to the queue unrun (BullMQ's delayed set for
HAND_BACK_MS, neither an attempt nor a failure), and that take is counted in `sy-unrun`, as a
suspect's wait is, so the reaper counts a crash only against the runs that were running. So
when a poison run takes its process down again, the runs that shared the process with it the
first time are not counted a second crash beside it (WORKER_CRASHED is the poison's).

As the node worker does, a run taken leaves the pool's `sy-deadlines` set (the admission
script's sorted set of queued runs by deadline, which the gateway's expiry pass reads:
src/data/broker/redis/expiry.ts), in the same round trip as its lease; one that goes back to
the queue, for a retry (BullMQ's backoff) or handed back, is written back into it first, with
its envelope's deadline as the score, so the pass ends it if no worker takes it in time. A run
that runs is not the pass's: without this, a Python pool's set kept every run it ever took
until a pass dropped it, at most 100 per pass.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

from bullmq import DelayedError, UnrecoverableError, Worker
from redis import asyncio as redis_asyncio
from redis.asyncio.retry import Retry
from redis.backoff import EqualJitterBackoff, NoBackoff
from redis.exceptions import BusyLoadingError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from .cancel import Abort, cancel_channel, cancelled_error, cancels_key
from .crashes import STARTED_LUA, count_unrun, crashes_given, crashes_of, forget_unrun, unrun_key
from .envelope import deadline_ms
from .heartbeat import leases_key
from .runner import Outcome, PoolRunner

RUN_ERROR_TAG = "switchyard.run-error:"
log = logging.getLogger("switchyard_worker")

#: How long a run handed back (this process holds a suspect) waits in BullMQ's delayed set before
#: any worker may take it again: long enough not to spin against a busy process, short next to a
#: run's deadline (node's HAND_BACK_MS).
HAND_BACK_MS = 250


#: The longest wait between two tries at a command lost to an outage: a worker is back within this of Redis.
RECONNECT_MAX_S = 1.0


#: The errors a command is tried again after (outage_retry()): the connection lost, or Redis loading its data.
#: A tuple, given to each client as a list of its own: redis-py appends to the list it is given.
OUTAGE_ERRORS: tuple[type[Exception], ...] = (BusyLoadingError, RedisConnectionError, RedisTimeoutError)


#: How long a read waits for Redis before the connection is taken for dead, dropped and its
#: command tried again on a new one. Longer than BullMQ's longest blocking take (10 s), which
#: answers when it ends: redis-py's default (5 s) is shorter, so a take that waited its full
#: time timed out and was sent again, and a pool whose Redis host vanished without a word
#: (power lost, a partition, a failover that moved its address) took no run within 70 s
#: (tests/test_vanished_host.py). Node's connections have no such bound yet (RELIABILITY.md).
SOCKET_TIMEOUT_S = 20.0


def outage_retry() -> Retry:
    """Each try at a command lost to an outage: 50 ms doubling to a second, less up to half at
    random, 600 times (some minutes, as long as BullMQ's own retries lasted)."""
    return Retry(EqualJitterBackoff(cap=RECONNECT_MAX_S, base=0.025), 600)


def bullmq_client(url: str) -> redis_asyncio.Redis:
    """The BullMQ Worker's connection to Redis, back within a second of Redis coming back.

    BullMQ's own retries a command lost to an outage after 2, 4, 8, 16, then every 20 s, and
    its worker waits 15 s (``runRetryDelay``) once they run out: after an outage of 20 s a
    Python pool took no run for 10 s after Redis was back. Here: 50 ms doubling to a second,
    each wait less up to half of it at random (as node's connection.ts reconnectDelay), for
    as long as BullMQ's own retries lasted (600 tries, some minutes): a run whose graph ended
    during an outage is recorded once Redis is back, as node's worker waits for Redis
    (``maxRetriesPerRequest: null``). Past them the worker tries again a second later. A pooled
    client: the worker's blocking take and its other commands each hold a connection of
    their own from it."""
    return redis_asyncio.from_url(
        url,
        decode_responses=True,
        retry=outage_retry(),
        retry_on_error=list(OUTAGE_ERRORS),
        socket_timeout=SOCKET_TIMEOUT_S,
    )


def queue_name(pool: str) -> str:
    """The queue of a pool (src/control/registry-rules.ts queueName)."""
    return f"switchyard.{pool}"


def deadlines_key(prefix: str, pool: str) -> str:
    """The pool's queued runs by deadline (member the run id, score the envelope's deadline in ms):
    src/data/broker/redis/keys.ts `deadlines`, spec/vectors/leases.json."""
    return f"{prefix}:{queue_name(pool)}:sy-deadlines"


def envelope_deadline(job: Any) -> int | None:
    """The signed deadline of a job's envelope in epoch ms, or None when it has none that parses."""
    return deadline_ms(str(job.data.get("deadline", ""))) if isinstance(job.data, dict) else None


async def requeued(client: Any, key: str, run_id: str, job: Any) -> None:
    """A run goes back to the queue: its deadline entry goes back first (node's reaper.ts requeued)."""
    deadline = envelope_deadline(job)
    if deadline is not None:
        await client.zadd(key, {run_id: deadline})


def encode_run_error(outcome: Outcome, stamp: dict[str, int]) -> str:
    body = {"code": outcome.code, "message": outcome.message, "retryable": outcome.retryable, **stamp}
    return RUN_ERROR_TAG + json.dumps(body, separators=(",", ":"), ensure_ascii=False)


def next_retry_delay(job: Any) -> int:
    """The delay BullMQ would wait before the next attempt (its exponential and fixed backoffs: node's nextRetryDelay)."""
    backoff = (job.opts or {}).get("backoff")
    if isinstance(backoff, int | float):
        return int(backoff)
    if not isinstance(backoff, dict):
        return 0
    delay = int(backoff.get("delay") or 0)
    return 2 ** int(job.attemptsMade or 0) * delay if backoff.get("type") == "exponential" else delay


def settle(outcome: Outcome, job: Any, started_at: int) -> dict[str, Any]:
    """The job's return value for a success; raises the BullMQ error for a failure."""
    # attemptsStarted already counts this attempt; a run retaken from a dead worker counts the lost one too.
    now = int(time.time() * 1000)
    stamp = {
        "startedAt": int(job.processedOn or started_at),
        "finishedAt": now,
        "attempts": max(int(job.attemptsStarted or 0), int(job.attemptsMade or 0) + 1),
    }
    if outcome.ok:
        return {"switchyard.result": 1, "output": outcome.output, **stamp}
    message = encode_run_error(outcome, stamp)
    # Never retried past the deadline (node's failure()): nobody waits for that attempt, and its
    # refusal (DEADLINE_EXCEEDED), or the expiry pass's, would hide this error (a WORKER_LOST, say).
    raise Exception(message) if outcome.retryable and retry_in_time(job, now) else UnrecoverableError(message)


def retry_in_time(job: Any, now: int) -> bool:
    """Whether a retry of ``job`` would start before its deadline (settle retries only then)."""
    deadline = envelope_deadline(job)
    return deadline is None or now + next_retry_delay(job) < deadline


class CancelListener:
    """Hears the pool's cancel channel and aborts the runs of ``running`` (this process's) it names.

    One subscription, made again after every disconnection (Redis restarted, the connection
    killed): redis-py's own retry is off for it, so each new subscription is followed by a
    read of the cancel set for the runs held here, which finds what was published while
    nobody listened. A message for a run this process does not hold is ignored."""

    def __init__(self, url: str, prefix: str, pool: str, running: dict[str, Abort], *, retry_s: float = 0.5) -> None:
        self.channel = cancel_channel(prefix, pool)
        self.cancels = cancels_key(prefix, pool)
        self.pool = pool
        self.running = running
        self.retry_s = retry_s
        self._url = url
        #: How many times the subscription was made (for tests and logs: 2 after one reconnect).
        self.subscriptions = 0
        self._task: asyncio.Task[None] | None = None

    def cancel_here(self, run_id: str) -> None:
        abort = self.running.get(run_id)
        if abort is not None:
            abort.abort(cancelled_error(run_id))

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._listen())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _listen(self) -> None:
        failing = False
        pause = self.retry_s
        while True:
            client = redis_asyncio.from_url(self._url, retry=Retry(NoBackoff(), 0), health_check_interval=10, socket_keepalive=True)
            pubsub = client.pubsub()
            try:
                await pubsub.subscribe(self.channel)
                # Subscribed once Redis confirms it; only then can the cancel set miss nothing.
                while True:
                    message = await pubsub.get_message(timeout=None)
                    if message is not None and message.get("type") == "subscribe":
                        break
                self.subscriptions += 1
                if failing:
                    log.warning("pool '%s': listening for cancels again", self.pool)
                failing = False
                pause = self.retry_s
                await self._catch_up(client)
                while True:
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=None)
                    if message is not None and message.get("type") == "message":
                        data = message.get("data")
                        if isinstance(data, bytes):
                            self.cancel_here(data.decode("utf-8", "replace"))
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - Redis away or refusing: say it once, try again
                if not failing:
                    log.warning("pool '%s': cannot listen for cancels (%s); retrying", self.pool, error)
                failing = True
            finally:
                try:
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
                    await client.aclose()
                except Exception:  # noqa: BLE001 - the connection is gone already
                    pass
            # Doubling up to 5 s while Redis stays away (or refuses the subscription): no reconnect storm.
            await asyncio.sleep(pause)
            pause = min(pause * 2, max(self.retry_s, 5.0))

    async def _catch_up(self, client: Any) -> None:
        """Cancels requested while this process could not hear them, for the runs it holds."""
        ids = list(self.running)
        if not ids:
            return
        scores = await client.zmscore(self.cancels, ids)
        for run_id, score in zip(ids, scores, strict=True):
            if score is not None:
                self.cancel_here(run_id)


def start_worker(
    runner: PoolRunner,
    url: str,
    *,
    prefix: str = "bull",
    concurrency: int | None = None,
    name: str | None = None,
    worker_id: str | None = None,
) -> tuple[Worker, CancelListener]:
    """A BullMQ Worker serving the runner's pool (close it with ``await worker.close()``), and
    its cancel listener (started; ``await cancels.stop()`` once the worker is closed).

    ``name`` names its Redis connections (`<prefix>:<queue>:w:<name>`), one name per process.
    The broker counts workers by their heartbeats (heartbeat.py), not by connections.
    ``worker_id`` is that heartbeat's member: each run's lease goes in its `sy-leases` hash
    (none without it)."""

    # Runs this pool finished, until their signed deadlines: the node worker's `sy-finished` (issue 12.4).
    queue_prefix = f"{prefix}:{queue_name(runner.pool.name)}"
    finished_key = f"{queue_prefix}:sy-finished"
    # Its commands are idempotent reads and writes: retried over a reconnection, as long as the
    # BullMQ client's, so a run that ends during an outage is not failed by this connection
    # giving up first (after 11 s with the 8 tries it had: a 25 s outage failed the run).
    client = redis_asyncio.from_url(url, retry=outage_retry(), retry_on_error=list(OUTAGE_ERRORS), socket_timeout=SOCKET_TIMEOUT_S)
    #: Runs this process is executing: run id → its abort.
    running: dict[str, Abort] = {}
    cancels = CancelListener(url, prefix, runner.pool.name, running)
    leases = leases_key(prefix, runner.pool.name, worker_id) if worker_id else None
    unrun = unrun_key(prefix, runner.pool.name)
    deadlines = deadlines_key(prefix, runner.pool.name)
    #: The suspect that holds this process (waiting for the others to end, or running alone), if any.
    solo: str | None = None
    #: Every take this process's processor is in, from its first line to its last: runs, and runs
    #: being handed back (a suspect waits for those too: one not leased as it was fetched, were
    #: the process to die mid hand-back, would stay active, unleased, until BullMQ's stalled check).
    taken: set[str] = set()
    #: Set whenever a take here ends (a waiting suspect checks whether it is alone now).
    ended = asyncio.Event()
    #: Runs BullMQ fetched for this process whose processor has not begun: run id → their claim().
    claims: dict[str, asyncio.Future[bool]] = {}
    started = client.register_script(STARTED_LUA)

    async def hand_back(job: Any, token: str, run_id: str, *, leased: bool) -> None:
        """Give a run back to the queue unrun: BullMQ's delayed set for HAND_BACK_MS, this take
        counted as not run (crashes.py), neither an attempt nor a failure (DelayedError).
        ``leased``: the run was leased as it was fetched (claim()); its lease goes once the run
        is back, or once the move failed (the take then ends failed, as any error of its)."""
        # Counted first: a process that dies before the move leaves the run active, and its
        # reaper must not count a crash for a run that did not run here.
        await count_unrun(client, unrun, run_id, 1)
        try:
            # Back into the expiry pass's set first, as a retry (this take never dropped its entry,
            # but a pass that found the run active meanwhile did).
            await requeued(client, deadlines, run_id, job)
            await job.moveToDelayed(int(time.time() * 1000) + HAND_BACK_MS, token)
        except BaseException:
            try:
                await count_unrun(client, unrun, run_id, -1)
            except Exception:  # noqa: BLE001 - the move's error is the one to report
                pass
            raise
        finally:
            if leased:
                try:
                    await client.hdel(leases, run_id)  # type: ignore[arg-type]
                except Exception:  # noqa: BLE001 - a stale lease only makes a reaper find the run delayed, not active
                    pass
        raise DelayedError(f"run {run_id} handed back: this process runs suspect run {solo} alone")

    async def claim(run_id: str, token: str) -> bool:
        """A run BullMQ just fetched for this process: leased, out of the expiry pass's set, and
        its take counted as not run until its processor starts it (crashes.py), in one step."""
        async with client.pipeline(transaction=True) as pipe:
            pipe.hset(leases, run_id, token)  # type: ignore[arg-type]
            pipe.zrem(deadlines, run_id)
            pipe.hincrby(unrun, run_id, 1)
            await pipe.execute()
        return True

    def fetched(job: Any, *_: Any) -> None:
        """BullMQ's 'active' event, as its loop fetches a run and before any processor sees it.
        A run fetched just as a suspect pauses the worker waits in that loop, unprocessed,
        until the worker resumes: leased here, a suspect that takes the process down leaves it
        to a reaper at once, instead of BullMQ's stalled check 60-90 s later."""
        token = getattr(job, "token", None)
        if leases is None or job.id is None or not token:
            return
        claims[str(job.id)] = asyncio.ensure_future(claim(str(job.id), str(token)))

    async def claimed(run_id: str) -> bool:
        """Whether the run was leased and counted not run as it was fetched (False: its processor
        writes its lease, as before; the claim's write failed, or no event came)."""
        pending = claims.pop(run_id, None)
        if pending is None:
            return False
        try:
            return await pending
        except Exception as error:  # noqa: BLE001 - the processor writes the lease itself
            log.warning("pool '%s': run %s: could not lease it as it was fetched: %s", runner.pool.name, run_id, error)
            return False

    async def let_go(run_id: str) -> None:
        """A run fetched here whose BullMQ lock is no longer this take's: BullMQ's loop held it,
        unprocessed and its lock not renewed, while the worker was paused for a suspect, for
        longer than the lock lasts, and the stalled check gave it back to the queue (another
        worker may run it now). It is not run here. Its take stays counted as not run, and its
        lease goes; DelayedError makes BullMQ's processJob end it without settling anything."""
        try:
            await client.hdel(leases, run_id)  # type: ignore[arg-type]
        except Exception:  # noqa: BLE001 - a stale lease only makes a reaper find the run not this worker's
            pass
        log.info("pool '%s': run %s: its lock lapsed while it waited here for a suspect to end: not run here", runner.pool.name, run_id)
        raise DelayedError(f"run {run_id}: its lock lapsed while it waited here unprocessed")

    def others(run_id: str) -> bool:
        return any(other != run_id for other in taken)

    async def wait_alone(run_id: str, job: Any, abort: Abort) -> None:
        """Wait until the suspect ``run_id`` is the only take in flight here (the worker takes no
        new runs: process() paused it), its abort is set (a cancel), or its deadline passes (the
        runner then ends it WORKER_LOST). While it waits, its take is counted as not run
        (crashes.py): if one of the others takes the process down, that crash is not its."""
        if not others(run_id):
            return
        deadline = envelope_deadline(job) or int(time.time() * 1000)
        # Redis not answering only costs the run its shelter from the others' crash: it still waits.
        try:
            await count_unrun(client, unrun, run_id, 1)
            unstarted = True
        except Exception:  # noqa: BLE001 - see above
            unstarted = False
        try:
            while others(run_id) and not abort.aborted:
                left = deadline - int(time.time() * 1000)
                if left <= 0:
                    break
                ended.clear()
                waits = [asyncio.ensure_future(ended.wait()), asyncio.ensure_future(abort.wait())]
                try:
                    await asyncio.wait(waits, timeout=left / 1000, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    for waiting in waits:
                        waiting.cancel()
        finally:
            if unstarted:
                try:
                    await count_unrun(client, unrun, run_id, -1)
                except Exception as error:  # noqa: BLE001 - the run runs anyway
                    log.warning("pool '%s': run %s: could not count its start again: %s", runner.pool.name, run_id, error)

    async def process(job: Any, token: str) -> dict[str, Any]:
        run_id = str(job.id) if job.id is not None else None
        if run_id is None:
            return await take(job, token, None)
        taken.add(run_id)
        try:
            return await take(job, token, run_id)
        finally:
            taken.discard(run_id)
            ended.set()

    async def take(job: Any, token: str, run_id: str | None) -> dict[str, Any]:
        nonlocal solo
        started_at = int(time.time() * 1000)
        leased = await claimed(run_id) if run_id is not None else False
        if leased and run_id is not None:
            # Its processor has it: the take's count as not run is taken back, and the count left
            # read, in one step, while BullMQ's lock on it is still this take's.
            ours, left = await started(keys=[unrun, f"{queue_prefix}:{run_id}:lock"], args=[run_id, token])
            if not int(ours):
                await let_go(run_id)
            lost_attempts = crashes_given(job, 1, int(left))
        else:
            lost_attempts = await crashes_of(client, unrun, job, 1) if run_id is not None else 0
        # A suspect holds this process: whatever else comes (another suspect, or a run taken just
        # as the worker paused) would be counted a crash beside it. Another worker, or this one
        # later, takes it. No await between this check and `solo = run_id` below: two suspects
        # must not both find the process free.
        if solo is not None and run_id is not None:
            await hand_back(job, token, run_id, leased=leased)
        abort = Abort()
        if run_id is not None:
            running[run_id] = abort
            if lost_attempts > 0:
                # This suspect holds the process from now on: take no new runs (without waiting for
                # the active ones); the finally below takes runs again.
                solo = run_id
                await worker.pause(True)
        try:
            # The lease is in Redis before the graph starts: a crash from here on is found at once.
            # Its deadline entry goes in the same round trip: a run taken is not the expiry pass's.
            if leases is not None and run_id is not None and token and not leased:
                async with client.pipeline(transaction=False) as pipe:
                    pipe.hset(leases, run_id, token)
                    pipe.zrem(deadlines, run_id)
                    await pipe.execute()
                leased = True
            finished = False
            if run_id is not None:
                # Held before the cancel set is read: a cancel is either in the set already or heard from now on.
                async with client.pipeline(transaction=False) as pipe:
                    if not leased:
                        pipe.zrem(deadlines, run_id)
                    pipe.zscore(finished_key, run_id)
                    pipe.zscore(cancels.cancels, run_id)
                    *_, done, cancelled = await pipe.execute()
                finished = done is not None
                if cancelled is not None:
                    abort.abort(cancelled_error(run_id))
                if solo == run_id:
                    await wait_alone(run_id, job, abort)
            outcome = await runner.handle(job.data, int(job.attemptsMade or 0) + 1, run_id, finished, abort, lost_attempts)
        finally:
            if run_id is not None and running.get(run_id) is abort:
                del running[run_id]
            if run_id is not None and solo == run_id:
                solo = None
                if not worker.closing:
                    worker.resume()
            if leased:
                try:
                    await client.hdel(leases, run_id)  # type: ignore[arg-type]
                except Exception:  # noqa: BLE001 - a stale lease only makes a reaper find the job settled
                    pass
        attempts = int((job.opts or {}).get("attempts") or 1)
        last = int(job.attemptsMade or 0) + 1 >= attempts
        # Ends here for good, refused or not (node's willNotRetry): settle() retries no other.
        ends = outcome.ok or not outcome.retryable or last or not retry_in_time(job, int(time.time() * 1000))
        # Ran and ends: a replay before its deadline is refused. A refusal ran nothing.
        final = ends and (outcome.ok or not outcome.refused)
        deadline = envelope_deadline(job)
        if final and run_id is not None and deadline:
            await client.zremrangebyscore(finished_key, "-inf", int(time.time() * 1000))
            await client.zadd(finished_key, {run_id: deadline})
        # Its takes not run here were read (lost_attempts) only while it could run again: a run
        # that ends here for good, refused or not, forgets them, if it was ever taken before.
        if ends and run_id is not None and (lost_attempts > 0 or int(job.attemptsStarted or 0) - int(job.attemptsMade or 0) > 1):
            try:
                await forget_unrun(client, unrun, run_id)
            except Exception:  # noqa: BLE001 - a stale count is read only if the run is taken again
                pass
        try:
            return settle(outcome, job, started_at)
        except UnrecoverableError:
            raise
        except Exception:
            # A retry goes back to the queue: its deadline entry goes back first, so the expiry pass
            # ends it if no worker takes it in time (node's processor). Not due before BullMQ moves
            # it: settle() retries only a run still before its deadline.
            if run_id is not None and int(job.attemptsMade or 0) + 1 < attempts:
                await requeued(client, deadlines, run_id, job)
            raise

    worker = Worker(
        queue_name(runner.pool.name),
        process,
        {
            "connection": bullmq_client(url),
            # After a connection error that outlasted the client's retries (BullMQ's default: 15 s).
            "runRetryDelay": round(RECONNECT_MAX_S * 1000),
            "prefix": prefix,
            "concurrency": concurrency or runner.pool.concurrency,
            # node's (redis-run-source.ts LOCK): the lock is the backstop for a run whose lease was
            # never written, and must outlast an outage (at 30 s, a 30 s outage ran a run twice).
            "lockDuration": 60_000,
            "stalledInterval": 30_000,
            "maxStalledCount": 1,
            "autorun": False,
            **({"name": name} if name else {}),
        },
    )
    # Redis hiccups are reported and retried by BullMQ: a worker keeps serving through them.
    worker.on("error", lambda error, *_: log.warning("Redis worker for pool '%s': %s", runner.pool.name, error))
    worker.on("active", fetched)
    cancels.start()
    return worker, cancels
