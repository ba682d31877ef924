"""How many times a run's worker died under it, as src/data/broker/redis/crashes.ts counts.

BullMQ's public counts tell most of it: attemptsStarted rises each time a worker takes the
job, attemptsMade each time a take ends with an outcome, so a take without an outcome is a
worker that went away holding it. Not quite all: a worker also takes runs it does not run
(redis_source.py hands a run back while a suspect holds its process, and a suspect waits,
unrun, for the others to end), and a run BullMQ fetched is not run until its processor
starts it (one fetched as the worker paused waits in BullMQ's loop until it resumes). Those
takes are counted in the pool's `sy-unrun` hash (run id → takes not run), beside BullMQ's
keys, and subtracted here; in a worker that writes leases, a fetch is counted as it lands,
with its lease, and the count is taken back (STARTED_LUA) when its processor starts it. The
TypeScript reaper, which also reaps this worker's dead processes, reads the same hash;
spec/vectors/leases.json holds both languages to its name.
"""

from __future__ import annotations

from typing import Any


def unrun_key(prefix: str, pool: str) -> str:
    """The pool's hash of takes that did not run: field the run id, value how many."""
    return f"{prefix}:switchyard.{pool}:sy-unrun"


async def crashes_of(client: Any, key: str, job: Any, in_flight: int) -> int:
    """Takes of ``job`` that ended with their worker gone, less ``in_flight`` takes still going
    on (1 for the take this processor is in). Reads ``key`` (`sy-unrun`) only when BullMQ's
    counts show a lost take at all: a run never handed back costs no round trip."""
    takes = int(job.attemptsStarted or 0) - int(job.attemptsMade or 0) - in_flight
    if takes <= 0:
        return 0
    raw = await client.hget(key, str(job.id))
    try:
        unrun = int(raw) if raw is not None else 0
    except ValueError:
        unrun = 0
    return max(0, takes - unrun)


def crashes_given(job: Any, in_flight: int, unrun: int) -> int:
    """crashes_of, with the run's `sy-unrun` count already read (``started`` returns it)."""
    takes = int(job.attemptsStarted or 0) - int(job.attemptsMade or 0) - in_flight
    return max(0, takes - max(0, unrun))


#: Take back one take counted as not run: its processor starts it. The field goes with its last
#: count (a hash of zeros for every run would grow for ever). Only while BullMQ's lock on the job
#: (KEYS[2]) is still the take's token (ARGV[2]): returns {1, count left}, or {0, 0} untouched.
STARTED_LUA = """
if redis.call('GET', KEYS[2]) ~= ARGV[2] then return {0, 0} end
local left = redis.call('HINCRBY', KEYS[1], ARGV[1], -1)
if left <= 0 then redis.call('HDEL', KEYS[1], ARGV[1]) end
return {1, left}
"""


async def count_unrun(client: Any, key: str, run_id: str, by: int) -> None:
    """Count a take of ``run_id`` as not run (+1), or take that back when it runs after all (−1)."""
    await client.hincrby(key, run_id, by)


async def forget_unrun(client: Any, key: str, run_id: str) -> None:
    """The run ended for good: its `sy-unrun` count is no longer read."""
    await client.hdel(key, run_id)
