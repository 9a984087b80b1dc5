"""Opening Redis: the configured server, Cluster or Sentinel service, or an embedded Valkey."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable
from typing import TypeVar

from redis.asyncio import Redis
from redis.exceptions import RedisError

from core.embedded import embedded_valkey
from core.errors import StoreUnavailable
from core.redis_modes import AnyRedis, Mode, build_client, following, probe, redact
from core.settings import CoreSettings

__all__ = ["check_reachable", "client_for", "guard", "open_redis", "redact"]

log = logging.getLogger("switchboard.store")
T = TypeVar("T")


async def guard(call: Awaitable[T]) -> T:
    """Await a Redis call; a Redis failure becomes the error tree's `StoreUnavailable`."""
    try:
        return await call
    except RedisError as exc:
        raise StoreUnavailable(str(exc)) from exc


def client_for(url: str, max_connections: int = 64) -> Redis:
    """A pooled client for one server: callers beyond the pool wait for a connection."""
    client = build_client(url, "standalone", max_connections)
    assert isinstance(client, Redis)
    return client


async def check_reachable(url: str, forced: Mode | None = None) -> Mode:
    """Fail fast at start, naming REDIS_URL, instead of retrying for seconds per request.

    Returns the mode to use: a node with `cluster_enabled:1` is a Cluster unless `forced`.
    """
    return await probe(url, forced)


@contextlib.asynccontextmanager
async def open_redis(settings: CoreSettings) -> AsyncIterator[AnyRedis]:
    """The client for `REDIS_URL`, or for an embedded Valkey when it is unset."""
    async with contextlib.AsyncExitStack() as stack:
        if settings.redis_url is not None:
            url = settings.redis_url.get_secret_value()
        else:
            url = await stack.enter_async_context(embedded_valkey(settings.data_dir))
        forced = None if settings.redis_mode == "auto" else settings.redis_mode
        mode = await check_reachable(url, forced)
        log.info("redis: %s at %s", mode, redact(url))
        redis = build_client(url, mode)
        stack.push_async_callback(redis.aclose)
        await stack.enter_async_context(following(redis))  # stopped before the client closes
        yield redis
