"""`LangChainRedisStore`: messages in langchain-redis, turn guards and metadata in `RedisStore`."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar

import redis
import redis.asyncio
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import RedisError, WatchError
from redis.retry import Retry
from redisvl.exceptions import RedisVLError  # type: ignore[import-untyped]

from core import lua
from core.errors import ConfigError, LockLost, StoreUnavailable
from core.keys import PRIVATE_SCOPES, LinkCheck, Scope, SessionKey, UserKey
from core.langchain_docs import Documents
from core.messages import StoredMessage
from core.redis_modes import SENTINEL_SCHEMES
from core.redis_store import RedisStore
from core.settings import CoreSettings, Rate
from core.store import Choice, Loaded, SessionInfo, TurnWrite
from core.totals import Totals
from core.usage import Budget, Usage

P = ParamSpec("P")
T = TypeVar("T")


class LangChainRedisStore:
    """A `HistoryStore` whose messages are `RedisChatMessageHistory` documents (Redis 8/Stack)."""

    def __init__(self, rstore: RedisStore, client: redis.Redis, prefix: str) -> None:
        self.rstore, self.client = rstore, client
        self.key_prefix, self.index_name = f"{prefix}lc:", f"{prefix}lc:idx"
        self._finish = rstore.redis.register_script(lua.SOURCES["FINISH"])
        self.docs = Documents(rstore, client, self.key_prefix, self.index_name)

    @classmethod
    def wrap(cls, rstore: RedisStore, settings: CoreSettings) -> LangChainRedisStore:
        """Share `rstore`'s rate limits, locks and turn ids; no I/O until first used."""
        if settings.redis_url is None:
            raise ConfigError("REDIS_URL", "SWITCHBOARD_HISTORY_BACKEND=langchain-redis needs "
                              "a Redis 8 or Redis Stack server (Query Engine and JSON)")
        url = settings.redis_url.get_secret_value()
        if not isinstance(rstore.redis, redis.asyncio.Redis) or url.startswith(SENTINEL_SCHEMES):
            # Its synchronous client takes one server's URL, and the Query Engine is per node.
            raise ConfigError("SWITCHBOARD_HISTORY_BACKEND", "langchain-redis works with one "
                              "Redis server; use the default `redis` with Cluster or Sentinel")
        # RESP2: langchain-redis 0.2.6 parses FT.INFO as a RESP2 list and raises
        # "'dict' object has no attribute 'index'" on redis-py 8's RESP3 once the index exists.
        client = redis.Redis.from_url(
            url, protocol=2, decode_responses=True,
            socket_timeout=5, socket_connect_timeout=3, health_check_interval=30,
            retry=Retry(ExponentialWithJitterBackoff(base=0.05, cap=1.0), 3))
        return cls(rstore, client, settings.redis_prefix)

    async def admit(self, user: UserKey, turn_id: str, rate: Rate, cost: int = 1,
                    budget: Budget | None = None) -> None:
        await self.rstore.admit(user, turn_id, rate, cost, budget)

    async def usage(self, user: UserKey, budget: Budget | None,
                    currency: str | None = None) -> Usage:
        return await self.rstore.usage(user, budget, currency)

    async def totals(self, currency: str | None = None) -> Totals:
        return await self.rstore.totals(currency)

    async def open_turn(self, session: SessionKey, user: UserKey, turn_id: str,
                        rate: Rate, window: int, admitted: bool = False,
                        images: int = 0, cost: int = 1, budget: Budget | None = None,
                        link: LinkCheck | None = None) -> Loaded:
        loaded = await self.rstore.open_turn(session, user, turn_id, rate, window, admitted,
                                             cost=cost, budget=budget, link=link)
        try:
            messages = await self.read(session, window)
            files = await self._files(session, messages, images)
        except BaseException:
            await self.rstore.release(session, loaded.lock_token)
            raise
        return dataclasses.replace(loaded, messages=messages, files=files)

    async def _files(self, session: SessionKey, messages: list[StoredMessage],
                     images: int) -> dict[str, str]:
        """The newest `images` images the messages refer to (a second read, only if any)."""
        ids = [i for m in reversed(messages) for i in m.files][:images]
        if not ids:
            return {}
        key = self.rstore.keys.session(str(session)).files
        found = await self._guard(self.rstore.redis.hmget(key, ids))
        return {i: str(data) for i, data in zip(ids, found, strict=True) if data is not None}

    async def commit_turn(self, session: SessionKey, user: UserKey, lock_token: str,
                          write: TurnWrite) -> bool:
        sid, ttl = str(session), self.rstore.ttl
        keys = self.rstore.keys.session(sid)
        now_ms = int(time.time() * 1000)
        # Claim the turn id before appending: only the claimant writes the messages.
        claimed = await self._fenced(keys.lock, lock_token, lambda pipe: self._claim(
            pipe, session, user, write, now_ms))
        if not claimed[0]:
            await self.rstore.release(session, lock_token)
            return False
        try:
            await self._thread(self.docs.append, sid, write, now_ms)
        except Exception:  # give the id back so a redelivery can store the turn
            await self._thread(self.docs.drop, sid, turn=write.turn_id)
            await self._guard(self.rstore.redis.zrem(keys.turns, write.turn_id))
            raise
        title = next((m.text[:80] for m in write.messages if m.role == "human"), "")
        summarized = write.summarized if write.summary is not None else -1
        await self._guard(self._finish(keys=[keys.meta, keys.turns, keys.lock], args=[
            lock_token, ttl, now_ms, title, write.summary or "", summarized, len(write.messages),
            write.turn_id]))
        self.rstore.ended(lock_token)
        return True

    def _claim(self, pipe: Any, session: SessionKey, user: UserKey, write: TurnWrite,
               now_ms: int) -> None:
        """The turn id (whether it is new is the first result), then what goes with it."""
        sid, ttl = str(session), self.rstore.ttl
        keys, index = self.rstore.keys.session(sid), self.rstore.keys.user(str(user)).index
        pipe.zadd(keys.turns, {write.turn_id: now_ms}, nx=True)
        pipe.hset(index, sid, session.scope.value)
        if write.files:  # before the messages that refer to them
            pipe.hset(keys.files, mapping=dict(write.files))
        for key in (keys.turns, index, keys.files):
            pipe.expire(key, ttl)
        self.rstore.count_tokens(pipe, write.payer or user, write.turn_id, write.tokens,
                                 write.cost, session.platform)
        self.rstore.renew_link(pipe, user, write.payer)

    async def replace_answer(self, session: SessionKey, lock_token: str, turn_id: str,
                             target: str, answer: StoredMessage, user: UserKey | None = None,
                             tokens: tuple[int, int] = (0, 0), cost: int = 0) -> bool:
        keys, sid = self.rstore.keys.session(str(session)), str(session)

        def claim(pipe: Any) -> None:
            pipe.zadd(keys.turns, {turn_id: int(time.time() * 1000)}, nx=True)
            pipe.hget(keys.meta, "lt")
            if user is not None:
                self.rstore.count_tokens(pipe, user, turn_id, tokens, cost, session.platform)
        try:
            claimed, last, *_ = await self._fenced(keys.lock, lock_token, claim)
            return bool(claimed and last == target
                        and await self._thread(self.docs.replace_last, sid, answer))
        finally:
            await self.rstore.release(session, lock_token)

    async def info(self, session: SessionKey) -> SessionInfo | None:
        return await self.rstore.info(session)  # the meta hash is kept for both backends

    @property
    def lock_ms(self) -> int:
        return self.rstore.lock_ms

    async def keep_lock(self, session: SessionKey, lock_token: str) -> bool:
        return await self.rstore.keep_lock(session, lock_token)

    async def release(self, session: SessionKey, lock_token: str) -> None:
        await self.rstore.release(session, lock_token)

    async def read(self, session: SessionKey, limit: int) -> list[StoredMessage]:
        docs = await self._thread(self.docs.listing, str(session))
        return [message for _, _, message in docs[-limit:]] if limit > 0 else []

    async def images(self, session: SessionKey, ids: list[str]) -> dict[str, str]:
        return await self.rstore.images(session, ids)  # kept beside the history in both

    async def reset(self, session: SessionKey, user: UserKey) -> None:
        await self._thread(self.docs.drop, str(session))
        await self.rstore.reset(session, user)

    async def sessions(self, user: UserKey) -> list[SessionInfo]:
        return await self.rstore.sessions(user)

    async def choose(self, session: SessionKey, model: str | None, persona: str | None) -> None:
        await self.rstore.choose(session, model, persona)  # the meta hash is kept for both

    async def choice(self, session: SessionKey) -> Choice:
        return await self.rstore.choice(session)

    async def erase_user(self, user: UserKey) -> int:
        uid, index = str(user), self.rstore.keys.user(str(user)).index
        scopes = await self._guard(self.rstore.redis.hgetall(index))
        kept: dict[str, int] = {}
        for sid, scope in ((str(k), Scope(str(v))) for k, v in scopes.items()):
            if scope in PRIVATE_SCOPES:
                await self._thread(self.docs.drop, sid)
            else:  # the user's messages and the replies to them
                kept[sid] = await self._thread(self.docs.drop, sid, uid)
        await self.rstore.erase_user(user)
        for sid, count in kept.items():  # ERASE_SHARED saw only the (unused) plain list
            meta = self.rstore.keys.session(sid).meta
            await self._guard(self.rstore.redis.hdel(meta, "sum", "upto", "title"))
            await self._guard(self.rstore.redis.hset(meta, "n", count))
        return len(scopes)

    async def ping(self) -> None:
        await self.rstore.ping()
        await self._thread(self.docs.history, "ping")  # the index, hence the modules, must exist

    async def aclose(self) -> None:  # for whoever opened the store: closes the sync client
        await asyncio.to_thread(self.client.close)

    async def _thread(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """langchain-redis is synchronous: run it off the event loop."""
        return await self._guard(asyncio.to_thread(fn, *args, **kwargs))

    async def _fenced(self, lock: str, lock_token: str, fill: Callable[[Any], None]
                      ) -> list[Any]:
        """`fill`'s commands as one transaction, run only while `lock_token` still holds
        `lock` (WATCH): a turn whose lock expired, so that another process may be answering
        its conversation by now, writes nothing and raises LockLost."""
        async with self.rstore.redis.pipeline(transaction=True) as pipe:
            try:
                await self._guard(pipe.watch(lock))
                if await self._guard(pipe.get(lock)) != lock_token:
                    raise LockLost(lock)
                pipe.multi()  # type: ignore[no-untyped-call]  # unannotated in redis-py
                fill(pipe)
                return list(await self._guard(pipe.execute()))
            except StoreUnavailable as exc:
                if isinstance(exc.__cause__, WatchError):
                    raise LockLost(lock) from exc.__cause__
                raise

    async def _guard(self, call: Awaitable[T]) -> T:
        try:
            return await call
        except (RedisError, RedisVLError) as exc:
            raise StoreUnavailable(str(exc)) from exc

