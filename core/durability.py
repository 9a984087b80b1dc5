"""How many replicas must hold a turn before it counts as stored: Redis's `WAIT`, per commit.

Redis copies writes to replicas asynchronously. When Sentinel fails a primary over while the
old one still runs, turns it takes in the switch vanish once it is demoted. With a `WAIT` in
the commit's pipeline (still one round trip) such a turn fails visibly instead. A primary that
has no replica to wait for (the one just promoted, before the old one rejoins it; the survivor
of a crash) is told apart through the sentinels once commits have gone unacknowledged for
`grace` seconds (in a switch the sentinels still name the old primary for a moment): if they
name it then, the turn stands and WAIT is skipped for `recheck` seconds. Without Sentinel
there is no one to ask, and a commit no replica acknowledged fails.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, Literal, cast

from redis.asyncio.cluster import RedisCluster
from redis.asyncio.sentinel import SentinelConnectionPool
from redis.exceptions import RedisError

from core.errors import StoreUnavailable
from core.redis_modes import AnyRedis

log = logging.getLogger("switchboard.redis")
Replicas = int | Literal["auto"]


async def replicas_to_wait(redis: AnyRedis, wanted: Replicas) -> int:
    """`wanted`, or with "auto" 1 if the primary has a replica now (0 on a Cluster, whose
    pipelines go to a key's node, where a keyless WAIT has no place)."""
    if isinstance(redis, RedisCluster) or wanted == 0:
        return 0
    if wanted != "auto":
        return wanted
    info = await redis.info("replication")
    return 1 if int(info.get("connected_slaves", 0)) > 0 else 0


class Durability:
    """Queues the WAIT of one commit and judges its answer."""

    def __init__(self, redis: AnyRedis, replicas: int, timeout_ms: int = 500,
                 grace: float = 2.0, recheck: float = 10.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.redis, self.replicas, self.timeout_ms = redis, replicas, timeout_ms
        self.grace, self.recheck, self.clock = grace, recheck, clock
        self.alone_until, self.short_since = float("-inf"), float("inf")

    def queue(self, pipe: Any) -> Any:
        """Queue a WAIT after the commit's writes; returns what `check` needs to judge it."""
        if not self.replicas or self.clock() < self.alone_until:
            return None
        pipe.execute_command("WAIT", self.replicas, self.timeout_ms)
        return self._primary()

    async def check(self, results: list[Any], asked: Any) -> None:
        """StoreUnavailable if no replica holds the commit and its primary was replaced."""
        if asked is None:
            return
        now = self.clock()
        if int(results[-1]) >= self.replicas:
            self.short_since = float("inf")
            return
        self.short_since = min(self.short_since, now)
        if asked and now - self.short_since >= self.grace and await self._still_primary(asked):
            log.warning("redis: the primary has no replica to copy turns to; not waiting "
                        "for %.0f s", self.recheck)
            self.alone_until, self.short_since = now + self.recheck, float("inf")
            return
        raise StoreUnavailable("the turn reached no replica")

    def _primary(self) -> tuple[str, int] | bool:
        pool = getattr(self.redis, "connection_pool", None)
        if isinstance(pool, SentinelConnectionPool):
            return cast(tuple[str, int] | None, pool.master_address) or False
        return False  # no sentinel to ask

    async def _still_primary(self, asked: tuple[str, int]) -> bool:
        pool = cast(SentinelConnectionPool, getattr(self.redis, "connection_pool", None))
        try:
            now = await pool.sentinel_manager.discover_master(pool.service_name)
        except (RedisError, OSError):
            return False
        return tuple(now) == tuple(asked)
