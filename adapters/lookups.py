"""What a platform says of a person (a name, an admin flag): asked once, then kept a while."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

from cachetools import TLRUCache

log = logging.getLogger("switchboard.lookups")
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class _Kept(Generic[V]):
    value: V
    asked: bool  # False: the platform failed and `value` is the fallback


class Lookups(Generic[K, V]):
    """One platform request per key, its answer kept `ttl` seconds in a bounded LRU cache
    (cachetools). The answer only decorates a turn, so the request is bounded by `timeout` and
    a failure (one of `errors`) gives `fallback(key)`, kept only `failed_ttl` seconds: a
    missing scope or a passing outage is asked again soon, never on every message."""

    def __init__(self, ask: Callable[[K], Awaitable[V]], fallback: Callable[[K], V],
                 errors: tuple[type[Exception], ...], *, what: str, size: int = 2048,
                 ttl: float = 600, failed_ttl: float = 60, timeout: float = 2,
                 why: Callable[[Exception], str] = lambda exc: type(exc).__name__) -> None:
        def expires(key: K, kept: _Kept[V], now: float) -> float:
            return now + (ttl if kept.asked else failed_ttl)
        self.ask, self.fallback, self.why = ask, fallback, why
        self.errors: tuple[type[Exception], ...] = (*errors, TimeoutError)
        self.what, self.timeout = what, timeout
        self._kept: TLRUCache[K, _Kept[V]] = TLRUCache(size, expires)

    async def __call__(self, key: K) -> V:
        kept = self._kept.get(key)
        if kept is None:
            kept = self._kept[key] = await self._asked(key)
        return kept.value

    async def _asked(self, key: K) -> _Kept[V]:
        try:
            async with asyncio.timeout(self.timeout):
                return _Kept(await self.ask(key), asked=True)
        except self.errors as exc:
            log.info("%s failed (%s); going on without it", self.what, self.why(exc))
            return _Kept(self.fallback(key), asked=False)
