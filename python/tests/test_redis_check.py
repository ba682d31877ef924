"""Waiting for Redis: passwords never shown; a stop while waiting ends the wait (offline: loopback port 1)."""

import asyncio
import logging

from switchyard_worker.redis_check import redact_url, wait_for_redis


def test_passwords_are_masked():
    assert redact_url("redis://pool-email:s3cret@10.0.0.5:6380/2") == "redis://pool-email:***@10.0.0.5:6380/2"
    assert redact_url("redis://127.0.0.1:6379") == "redis://127.0.0.1:6379"


def test_an_unreachable_redis_is_said_once_and_a_stop_ends_the_wait(caplog):
    async def scenario():
        stop = asyncio.Event()
        asyncio.get_running_loop().call_later(0.3, stop.set)
        return await wait_for_redis("redis://u:pw@127.0.0.1:1", stop, retry_s=0.05)

    with caplog.at_level(logging.WARNING, logger="switchyard_worker"):
        assert asyncio.run(scenario()) is False
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1
    assert warnings[0].startswith("Redis at redis://u:***@127.0.0.1:1 does not answer (")
    assert "pw" not in warnings[0]
