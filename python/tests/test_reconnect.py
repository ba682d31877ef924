"""After a Redis outage a Python pool takes runs again within a second or two of Redis coming
back, however long the outage lasted, and a run whose graph ended during it is recorded once
Redis is back (redis_source.py `bullmq_client`).

BullMQ's own connection retries a command lost to the outage after 2, 4, 8, 16, then 20 s
(redis-py's ExponentialBackoff, cap 20 s), and its worker waits 15 s after a connection error
that outlasts those retries: after an outage of 20 s the worker's blocking take came back 10 s
after Redis did, after one of 25 s 6 s after. A real worker process and a real redis-server,
killed with SIGKILL and restarted on its own data and port.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

from tests.test_cancel import RedisServer, Worker, envelope, job_end, redis_server, registry, submit, wait_for, worker

__all__ = ["redis_server", "registry", "worker"]  # the fixtures this file uses from test_cancel

#: Longer than BullMQ's retries reach in their first three waits (2 + 4 + 8 s: the fourth is
#: 16 s), and than the 11 s the worker's own client used to retry a command.
OUTAGE_S = 25
#: A run sent as Redis comes back must have ended within this.
BACK_WITHIN_S = 6


def test_a_run_sent_as_redis_comes_back_from_a_25_s_outage_is_run_within_seconds_and_one_in_flight_is_kept(
    worker: Worker, redis_server: RedisServer, tmp_path: Path
) -> None:
    async def scenario() -> None:
        before = envelope("py.watch", {"dir": str(tmp_path), "sleep": 0})
        await submit(redis_server, before)
        await wait_for("the run before the outage to end", lambda: job_end(redis_server, before["runId"]))

        # A run in flight as Redis dies, whose graph ends during the outage: its result waits for Redis.
        through = envelope("py.watch", {"dir": str(tmp_path), "sleep": 2}, deadline_in=120)
        await submit(redis_server, through)
        await wait_for("the run in flight to start", lambda: (tmp_path / f"{through['runId']}.started").exists())

        redis_server.kill()
        await asyncio.sleep(OUTAGE_S)
        redis_server.start()
        back_at = time.monotonic()

        after = envelope("py.watch", {"dir": str(tmp_path), "sleep": 0}, deadline_in=60)
        await submit(redis_server, after)
        fields = await wait_for(
            f"the run sent after the outage to end within {BACK_WITHIN_S} s", lambda: job_end(redis_server, after["runId"]), timeout=BACK_WITHIN_S
        )
        assert json.loads(fields["returnvalue"])["output"] == {"slept": True}, fields
        print(f"run {round((time.monotonic() - back_at) * 1000)} ms after Redis came back")
        # Recorded once Redis was back, by the attempt that ran it: not failed, not run again.
        kept = await wait_for("the run in flight through the outage to end", lambda: job_end(redis_server, through["runId"]), timeout=10)
        assert json.loads(kept.get("returnvalue", "null") or "null") is not None, kept
        assert json.loads(kept["returnvalue"])["output"] == {"slept": True}, kept
        assert (kept.get("ats"), kept.get("atm")) == ("1", "1"), kept  # started once, one attempt made

    asyncio.run(scenario())
