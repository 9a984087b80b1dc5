"""Which Redis a URL names (a server, a Cluster or a Sentinel service) and its redis-py client."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias, cast
from urllib.parse import unquote, urlsplit

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel, SentinelConnectionPool
from redis.backoff import ExponentialWithJitterBackoff, NoBackoff
from redis.exceptions import RedisClusterException, RedisError

from core.background import alongside
from core.errors import ConfigError

log = logging.getLogger("switchboard.store")
AnyRedis: TypeAlias = Redis | RedisCluster
Mode = Literal["standalone", "cluster", "sentinel"]
SENTINEL_SCHEMES = ("redis+sentinel://", "rediss+sentinel://")
# How often a Sentinel client asks which server is the primary (see `follow_primary`).
FOLLOW_SECONDS = 0.5
SCHEMES = ("redis://", "rediss://", "unix://", *SENTINEL_SCHEMES)
# Every write the store makes is idempotent, so retrying after a lost reply is safe.
COMMON: dict[str, Any] = dict(decode_responses=True, socket_timeout=5, socket_connect_timeout=3,
                              health_check_interval=30)


def _retry() -> Retry:
    return Retry(ExponentialWithJitterBackoff(base=0.05, cap=1.0), 3)


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    try:
        password = urlsplit(url).password
    except ValueError:  # an unparsable URL may still carry a secret: show only its scheme
        return url.split("//", 1)[0] + "//***"
    if password:
        return url.replace(f":{password}@", ":***@", 1)
    return url


@dataclass(frozen=True, slots=True)
class SentinelTarget:
    """What a `redis+sentinel://[user:pass@]host:port,host:port/service[/db]` URL names."""

    nodes: tuple[tuple[str, int], ...]
    service: str
    db: int
    username: str | None
    password: str | None
    ssl: bool


def parse_sentinel(url: str) -> SentinelTarget:
    """Split a Sentinel URL (the form kombu and Celery use); ValueError says what is wrong."""
    parts = urlsplit(url)
    hosts = parts.netloc.rpartition("@")[2]
    path = [p for p in parts.path.split("/") if p]
    if not hosts or not path or len(path) > 2 or (len(path) == 2 and not path[1].isdigit()):
        raise ValueError("expected redis+sentinel://host:port[,host:port...]/service_name[/db]")
    return SentinelTarget(tuple(_node(h) for h in hosts.split(",")), unquote(path[0]),
                          int(path[1]) if len(path) == 2 else 0,
                          unquote(parts.username) if parts.username else None,
                          unquote(parts.password) if parts.password else None,
                          parts.scheme.startswith("rediss"))


def _node(text: str) -> tuple[str, int]:
    host, _, port = text.strip().rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"sentinel address {text.strip()!r} is not host:port")
    return host.strip("[]"), int(port)


def mode_of_scheme(url: str) -> Mode | None:
    """The mode a URL fixes by itself (Sentinel, or one server on a socket); None: detect."""
    if url.startswith(SENTINEL_SCHEMES):
        return "sentinel"
    return "standalone" if url.startswith("unix://") else None


def _sentinel(target: SentinelTarget, fast: bool) -> Sentinel:
    # Sentinels are asked without the URL's password: it authenticates to the data nodes.
    timeout = 3 if fast else 5
    return Sentinel(list(target.nodes), socket_timeout=timeout, socket_connect_timeout=3,
                    sentinel_kwargs={"socket_timeout": timeout, "socket_connect_timeout": 3})


def build_client(url: str, mode: Mode, max_connections: int = 64) -> AnyRedis:
    """The pooled client redis-py offers for `mode`; none of them connects before first use."""
    if mode == "cluster":
        try:  # per node; the cluster client raises instead of waiting when a pool is full
            return RedisCluster.from_url(url, max_connections=max(max_connections, 512),
                                         retry=_retry(), **COMMON)
        except RedisClusterException as exc:  # e.g. a database other than 0
            raise ConfigError("REDIS_URL", f"{redact(url)}: {exc}") from None
    if mode == "sentinel":
        target = parse_sentinel(url)
        return _sentinel(target, fast=False).master_for(  # type: ignore[no-any-return]
            target.service, db=target.db, username=target.username, password=target.password,
            ssl=target.ssl, retry=_retry(), max_connections=max_connections, **COMMON)
    pool = BlockingConnectionPool.from_url(url, max_connections=max_connections, timeout=30,
                                           retry=_retry(), **COMMON)
    return Redis.from_pool(pool)  # the client owns the pool: aclose() closes its sockets


async def probe(url: str, forced: Mode | None) -> Mode:
    """Reach the server once, failing fast with a ConfigError; return the mode to use."""
    mode = mode_of_scheme(url)
    if mode == "sentinel":
        if forced not in (None, "sentinel"):
            raise ConfigError("SWITCHBOARD_REDIS_MODE", f"{forced} does not apply to a "
                              "redis+sentinel:// URL; leave it at auto")
        await _probe_sentinel(url)
        return "sentinel"
    enabled = await _cluster_enabled(url)
    if forced == "cluster" and not enabled:
        raise ConfigError("SWITCHBOARD_REDIS_MODE", f"cluster, but {redact(url)} is not a "
                          "Redis Cluster node (cluster_enabled:0)")
    return forced or ("cluster" if enabled else "standalone")


async def _cluster_enabled(url: str) -> bool:
    client = Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3,
                            retry=Retry(NoBackoff(), 0))
    try:
        info = await client.info("cluster")
    except (RedisError, OSError) as exc:
        raise ConfigError("REDIS_URL", f"cannot reach {redact(url)} ({exc})") from None
    finally:
        await client.aclose()
    return bool(int(info.get("cluster_enabled", 0)))


async def _probe_sentinel(url: str) -> None:
    target = parse_sentinel(url)
    client = _sentinel(target, fast=True).master_for(
        target.service, db=target.db, username=target.username, password=target.password,
        ssl=target.ssl, retry=Retry(NoBackoff(), 0))
    try:
        await client.ping()
    except (RedisError, OSError) as exc:
        raise ConfigError("REDIS_URL", f"no primary for {target.service!r} through "
                          f"{redact(url)} ({exc})") from None
    finally:
        await client.aclose()


@contextlib.asynccontextmanager
async def following(client: AnyRedis, every: float = FOLLOW_SECONDS) -> AsyncIterator[None]:
    """While open, a Sentinel client drops its connections as soon as the primary changes."""
    pool = getattr(client, "connection_pool", None)
    if not isinstance(pool, SentinelConnectionPool):
        yield
        return
    async with alongside(follow_primary(pool, every)):
        yield


async def follow_primary(pool: SentinelConnectionPool, every: float) -> None:
    """Ask the sentinels every `every` seconds; on a new primary close every old connection.

    redis-py asks the sentinels only when it opens a connection, so pooled connections keep
    writing into a primary that was failed over while it still runs, until Sentinel demotes
    it (about 10 s later) and it drops what it took meanwhile. Commands cut off by the close
    are retried on the new primary; every write the store makes is safe to retry.
    """
    while True:
        await asyncio.sleep(every)
        before = cast(tuple[str, int] | None, pool.master_address)
        with contextlib.suppress(RedisError, OSError):
            now = await pool.get_master_address()  # type: ignore[no-untyped-call]
            if before is not None and now != before:
                log.warning("redis: the sentinels name a new primary; reconnecting")
                await pool.disconnect()
