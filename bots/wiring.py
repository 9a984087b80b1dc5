"""Composition root of the core: settings in, a ready `ChatService` out, resources closed after."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Iterable

from redis.asyncio import Redis

from core.connect import open_redis
from core.model import build_model, describe, http_client
from core.redis_store import RedisStore
from core.service import ChatService, TurnRecord
from core.settings import CoreSettings
from core.store import HistoryStore

log = logging.getLogger("switchboard")


@contextlib.asynccontextmanager
async def open_core(settings: CoreSettings,
                    observers: Iterable[Callable[[TurnRecord], None]] = ()
                    ) -> AsyncIterator[ChatService]:
    async with open_redis(settings) as redis, core_on(redis, settings, observers) as service:
        yield service


@contextlib.asynccontextmanager
async def core_on(redis: Redis, settings: CoreSettings,
                  observers: Iterable[Callable[[TurnRecord], None]] = ()
                  ) -> AsyncIterator[ChatService]:
    """The core on an open Redis client, which the caller may share (a platform's inbox)."""
    async with contextlib.AsyncExitStack() as stack:
        store: HistoryStore
        rstore = RedisStore(redis, settings.redis_prefix, settings.history_ttl,
                            settings.history_max_messages)
        await rstore.scripts.load(redis)
        store = rstore
        if settings.history_backend == "langchain-redis":
            from core.langchain_redis_store import LangChainRedisStore

            lc_store = LangChainRedisStore.wrap(rstore, settings)
            stack.push_async_callback(lc_store.aclose)
            store = lc_store
        log.info("model: %s", describe(settings))
        http = await stack.enter_async_context(http_client(settings))
        yield ChatService(store, build_model(settings, http), settings, observers)
