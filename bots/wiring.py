"""Composition root of the core: settings in, a ready `ChatService` out, resources closed after."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from core import transcribe
from core.config import load_file
from core.connect import open_redis
from core.durability import replicas_to_wait
from core.model import describe, http_client
from core.presets import Catalog
from core.redis_modes import AnyRedis
from core.redis_store import RedisStore
from core.service import ChatService, TurnRecord
from core.settings import CoreSettings
from core.store import HistoryStore
from core.tools import Toolbox
from core.tools import describe as describe_tools

if TYPE_CHECKING:  # FastAPI is loaded only by the platforms that serve HTTP
    from fastapi import APIRouter

log = logging.getLogger("switchboard")
# What a platform's composition root returns: run until the event is set.
Serve = Callable[[asyncio.Event], Coroutine[Any, Any, None]]


@dataclass(slots=True)
class Wiring:
    """What every platform's `build(wiring) -> Serve` gets from `switchboard run`."""

    service: ChatService
    redis: AnyRedis  # shared with the core, for what a platform keeps besides (Telegram's inbox)
    settings: CoreSettings
    routes: list[APIRouter] = field(default_factory=list)  # webhooks for the HTTP app


@contextlib.asynccontextmanager
async def open_core(settings: CoreSettings,
                    observers: Iterable[Callable[[TurnRecord], None]] = ()
                    ) -> AsyncIterator[ChatService]:
    async with open_redis(settings) as redis, core_on(redis, settings, observers) as service:
        yield service


@contextlib.asynccontextmanager
async def core_on(redis: AnyRedis, settings: CoreSettings,
                  observers: Iterable[Callable[[TurnRecord], None]] = ()
                  ) -> AsyncIterator[ChatService]:
    """The core on an open Redis client, which the caller may share (a platform's inbox)."""
    async with contextlib.AsyncExitStack() as stack:
        store: HistoryStore
        replicas = await replicas_to_wait(redis, settings.redis_wait_replicas)
        rstore = RedisStore(redis, settings.redis_prefix, settings.history_ttl,
                            settings.history_max_messages, replicas=replicas)
        await rstore.scripts.load(redis)
        store = rstore
        if settings.history_backend == "langchain-redis":
            from core.langchain_redis_store import LangChainRedisStore

            lc_store = LangChainRedisStore.wrap(rstore, settings)
            stack.push_async_callback(lc_store.aclose)
            store = lc_store
        log.info("model: %s", describe(settings))
        file = load_file(settings.config_file)
        catalog = Catalog(settings, file, await stack.enter_async_context(http_client(settings)))
        transcriber = await stack.enter_async_context(transcribe.opened(settings))
        toolbox = await stack.enter_async_context(Toolbox(file.mcp))
        if file.mcp:
            log.info("tools: %s", describe_tools(toolbox))
        yield ChatService(store, catalog, settings, observers, transcriber, toolbox)
