"""Before serving: wait for Redis (saying so once, with the password masked) and check
the one setting BullMQ cannot live without, `maxmemory-policy noeviction` — a warning
here, as the node worker gives (the broker is the one that refuses to start)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import redis.asyncio as aioredis
from redis.exceptions import NoPermissionError

log = logging.getLogger("switchyard_worker")


def redact_url(url: str) -> str:
    """The URL with its password masked, for messages and logs."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable Redis URL>"
    if not parts.password:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    netloc = f"{user}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


async def wait_for_redis(url: str, stop: asyncio.Event, retry_s: float = 1.0) -> bool:
    """True once Redis answers PING; False when ``stop`` is set first."""
    client = aioredis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
    warned = False
    try:
        while not stop.is_set():
            try:
                await asyncio.wait_for(client.ping(), 5)
                break
            except Exception as error:  # noqa: BLE001 - any failure means: not yet
                if not warned:
                    log.warning("Redis at %s does not answer (%s): waiting for it", redact_url(url), error)
                    warned = True
                try:
                    await asyncio.wait_for(stop.wait(), retry_s)
                except TimeoutError:
                    pass
        else:
            return False
        if warned:
            log.warning("Redis at %s answers again", redact_url(url))
        await _check_eviction(client, url)
        return True
    finally:
        await client.aclose()


async def _check_eviction(client: aioredis.Redis, url: str) -> None:
    try:
        reply = await client.config_get("maxmemory-policy")
    except aioredis.ResponseError as error:
        if isinstance(error, NoPermissionError) or str(error).startswith("NOPERM"):
            # A pool's ACL user (as `switchyard acl` makes it) may not run CONFIG: expected,
            # and the gateway's own check already said so once. Nothing to add per worker.
            log.debug("cannot check maxmemory-policy on %s as its ACL user: %s", redact_url(url), error)
            return
        log.warning(
            'Switchyard could not read maxmemory-policy on %s (%s). Make sure the server runs with '
            '"maxmemory-policy noeviction", or queued runs can be evicted and lost.', redact_url(url), error,
        )
        return
    except Exception as error:  # noqa: BLE001 - an ACL user may not be allowed CONFIG: that is fine
        log.warning(
            'Switchyard could not read maxmemory-policy on %s (%s). Make sure the server runs with '
            '"maxmemory-policy noeviction", or queued runs can be evicted and lost.', redact_url(url), error,
        )
        return
    values: dict[Any, Any] = dict(reply)
    policy = values.get("maxmemory-policy") or values.get(b"maxmemory-policy")
    policy = policy.decode() if isinstance(policy, bytes) else str(policy)
    if policy != "noeviction":
        log.warning(
            'WARNING: Redis at %s runs with maxmemory-policy=%s: Redis may evict queued runs under memory pressure. '
            'Set "maxmemory-policy noeviction" (redis.conf, or CONFIG SET maxmemory-policy noeviction).', redact_url(url), policy,
        )
