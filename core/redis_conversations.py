"""The conversation side of `RedisStore` outside a turn: its messages, choice and listing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from core.connect import guard
from core.keys import KeySpace, Scope, SessionKey, UserKey
from core.messages import StoredMessage
from core.redis_modes import AnyRedis
from core.store import Choice, SessionInfo

META = ("title", "n", "c", "at")  # the meta hash fields a listing shows
SPENT = ("n", "c", "at", "title", "sum", "upto", "lt")  # what a reset clears (the choice stays)
DEFAULT_CHOICE = Choice()


class ConversationData:
    """Mixed into `RedisStore`, which provides the client, keys, TTL and pipelines."""

    redis: AnyRedis
    keys: KeySpace
    ttl: int

    async def _run(self, fill: Callable[[Any], object]) -> list[Any]:
        raise NotImplementedError

    async def read(self, session: SessionKey, limit: int) -> list[StoredMessage]:
        raw = await guard(self.redis.lrange(self.keys.session(str(session)).history, -limit, -1))
        return [StoredMessage.decode(r) for r in cast(list[str], raw)]  # decode_responses=True

    async def images(self, session: SessionKey, ids: list[str]) -> dict[str, str]:
        found = await guard(self.redis.hmget(self.keys.session(str(session)).files, ids))
        return {i: str(data) for i, data in zip(ids, found, strict=True) if data is not None}

    async def reset(self, session: SessionKey, user: UserKey) -> None:
        # Keep the turn ids (a message redelivered after a reset is still answered once) and
        # the chosen model and persona; the messages, their images and summary go.
        keys = self.keys.session(str(session))
        await self._run(lambda p: (p.delete(keys.history, keys.files), p.hdel(keys.meta, *SPENT)))

    async def choose(self, session: SessionKey, model: str | None, persona: str | None) -> None:
        chosen = {k: v for k, v in (("pm", model), ("pp", persona)) if v is not None}
        if not chosen:
            return
        meta = self.keys.session(str(session)).meta
        # NX: a choice never extends the life of a conversation (and of its title), see erasure.
        await self._run(lambda p: (p.hset(meta, mapping=chosen),
                                   p.expire(meta, self.ttl, nx=True)))

    async def choice(self, session: SessionKey) -> Choice:
        found = await guard(self.redis.hmget(self.keys.session(str(session)).meta, "pm", "pp"))
        return choice_of(*found)

    async def info(self, session: SessionKey) -> SessionInfo | None:
        meta = await guard(self.redis.hmget(self.keys.session(str(session)).meta, *META))
        return _info(str(session), meta, session.scope) if meta[1] else None

    async def sessions(self, user: UserKey) -> list[SessionInfo]:
        index = self.keys.user(str(user)).index
        listed = await guard(self.redis.hgetall(index))
        scopes = {str(k): Scope(str(v)) for k, v in listed.items()}
        ids = sorted(scopes)
        metas = await self._run(lambda p: [p.hmget(self.keys.session(i).meta, *META) for i in ids])
        infos = [_info(sid, meta, scopes[sid]) for sid, meta in zip(ids, metas, strict=True)
                 if meta[1]]
        return sorted(infos, key=lambda i: i.updated, reverse=True)


def choice_of(model: Any, persona: Any) -> Choice:
    """A conversation's choice as its meta hash holds it ('' or none: the default)."""
    return Choice(str(model or "") or DEFAULT_CHOICE.model,
                  str(persona or "") or DEFAULT_CHOICE.persona)


def _info(session_id: str, meta: list[Any], scope: Scope) -> SessionInfo:
    title, count, created, updated = meta
    return SessionInfo(session_id, title or "", int(count), int(created or 0) // 1000,
                       int(updated or 0) // 1000, scope)
