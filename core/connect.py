"""Opening Redis: the configured server, or an embedded Valkey when none is configured."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable
from typing import TypeVar
from urllib.parse import urlsplit

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff, NoBackoff
from redis.exceptions import RedisError

from core.embedded import embedded_valkey
from core.errors import ConfigError, StoreUnavailable
from core.settings import CoreSettings

log = logging.getLogger("switchboard.store")
T = TypeVar("T")


async def guard(call: Awaitable[T]) -> T:
    """Await a Redis call; a Redis failure becomes the error tree's `StoreUnavailable`."""
    try:
        return await call
    except RedisError as exc:
        raise StoreUnavailable(str(exc)) from exc


def client_for(url: str, max_connections: int = 64) -> Redis:
    """A pooled client: callers beyond the pool wait for a connection instead of failing."""
    pool = BlockingConnectionPool.from_url(
        url, max_connections=max_connections, timeout=30, decode_responses=True,
        socket_timeout=5, socket_connect_timeout=3, health_check_interval=30,
        # Every write the store makes is idempotent, so retrying after a lost reply is safe.
        retry=Retry(ExponentialWithJitterBackoff(base=0.05, cap=1.0), 3))
    return Redis.from_pool(pool)  # the client owns the pool: aclose() closes its sockets


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@", 1)
    return url


async def check_reachable(url: str) -> None:
    """Fail fast at start, naming REDIS_URL, instead of retrying for seconds per request."""
    probe = Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3,
                           retry=Retry(NoBackoff(), 0))
    try:
        await probe.ping()
    except (RedisError, OSError) as exc:
        raise ConfigError("REDIS_URL", f"cannot reach {redact(url)} ({exc})") from None
    finally:
        await probe.aclose()


@contextlib.asynccontextmanager
async def open_redis(settings: CoreSettings) -> AsyncIterator[Redis]:
    """The client for `REDIS_URL`, or for an embedded Valkey when it is unset."""
    async with contextlib.AsyncExitStack() as stack:
        if settings.redis_url is not None:
            url = settings.redis_url.get_secret_value()
        else:
            url = await stack.enter_async_context(embedded_valkey(settings.data_dir))
        await check_reachable(url)
        redis = client_for(url)
        stack.push_async_callback(redis.aclose)
        yield redis
