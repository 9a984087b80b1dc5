"""The erasing side of `RedisStore`: a person's erase epoch, the index kept alive, and the erase.

Each person has an epoch (`{u:<user>}:e`), a random value naming their current life in the
store. A turn's open reads it (ENTER, in the open's round trip) and lists the conversation in
the person's index; the commit writes only while the turn holds the conversation's lock
(COMMIT) and lists the conversation again only if the epoch is unchanged (REGISTER), both in
the commit's round trip. An erase first marks the epoch 'erasing' and reads the index
(ERASE_BEGIN), then erases each listed conversation and takes its lock away, then deletes the
person's keys. So a turn in flight during an erase is refused: its lock is gone (COMMIT writes
nothing), or, on a Redis Cluster where the open's two halves may land on either side of the
erase, REGISTER finds the epoch changed and the store removes what the commit wrote.

The index must outlive every conversation it lists, or a shared thread a person wrote in
would outlive the only record that they did. Only COMMIT extends a conversation's TTL, and
every commit in a shared conversation refreshes the index of each of its authors (the
session's `authors` set, read by the open): so an index expires only after the last of its
conversations.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from core import usage
from core.connect import guard
from core.errors import ErasedMeanwhile, ErasePending, LockLost
from core.keys import PRIVATE_SCOPES, KeySpace, Scope, SessionKey, UserKey
from core.redis_modes import AnyRedis

# The index and epoch outlive the conversations they list by this much: the commit refreshes
# them in the same round trip as the conversation, but on another node, a moment apart.
INDEX_MARGIN_S = 3600
# How long the 'erasing' mark refuses new turns if an erase is cut short (it can be retried).
ERASING_S = 600
MEMO = 4096  # open turns remembered per process: their epoch and co-authors, by lock token


@dataclass(frozen=True, slots=True)
class Opened:
    """What a turn's open read for its commit: the person's epoch, the conversation's authors."""

    epoch: str
    authors: tuple[str, ...] = ()


class Erasure:
    """Mixed into `RedisStore`, which provides the client, keys, TTL and pipelines."""

    redis: AnyRedis
    keys: KeySpace
    ttl: int
    clock: Callable[[], float]
    _opened: dict[str, Opened]

    async def _run(self, fill: Callable[[Any], object]) -> list[Any]:
        raise NotImplementedError

    def _eval(self, pipe: Any, name: str, keys: tuple[str, ...], *args: str | int) -> None:
        raise NotImplementedError

    @property
    def index_ttl(self) -> int:
        return self.ttl + INDEX_MARGIN_S

    def _enter(self, pipe: Any, session: SessionKey, user: UserKey) -> None:
        """The open's part: the epoch (last result) and, if shared, the authors before it."""
        keys = self.keys.user(str(user))
        if not session.private:
            pipe.smembers(self.keys.session(str(session)).authors)
        self._eval(pipe, "ENTER", (keys.epoch, keys.index), str(session), session.scope.value,
                   self.index_ttl, secrets.token_hex(8))

    def _entered(self, session: SessionKey, results: list[Any]) -> Opened:
        """ENTER's and the authors' results; ErasePending while the person is being erased."""
        if not results[-1]:
            raise ErasePending(str(session))
        authors = tuple(sorted(str(a) for a in results[-2])) if not session.private else ()
        return Opened(str(results[-1]), authors)

    def _remember(self, token: str, opened: Opened) -> None:
        self._opened[token] = opened
        if len(self._opened) > MEMO:
            del self._opened[next(iter(self._opened))]

    def _register(self, pipe: Any, session: SessionKey, user: UserKey, token: str) -> None:
        """The commit's part: REGISTER (one result), then keep every co-author's index alive."""
        opened = self._opened.get(token, Opened(""))
        keys, ttl = self.keys.user(str(user)), self.index_ttl
        self._eval(pipe, "REGISTER", (keys.epoch, keys.index), str(session),
                   session.scope.value, ttl, opened.epoch)
        for author in opened.authors:
            if author != str(user):  # its own index was refreshed by REGISTER
                other = self.keys.user(author)
                pipe.expire(other.index, ttl)
                pipe.expire(other.epoch, ttl)

    def _epoch(self, token: str) -> str:
        """The epoch the turn holding lock `token` read at its open ('' if not this process)."""
        return self._opened.get(token, Opened("")).epoch

    async def _settle(self, session: SessionKey, user: UserKey, written: int,
                      registered: int) -> bool:
        """The commit's outcome from COMMIT's (-1, 0, 1) and REGISTER's (0, 1) results."""
        if not registered:  # erased since the open: undo what the commit may have written
            if written != -1:
                await self._run(lambda p: self._erase_from(p, str(session), session.scope,
                                                           str(user)))
            raise ErasedMeanwhile(str(session))
        if written == -1:
            raise LockLost(str(session))
        return bool(written)

    async def erase_user(self, user: UserKey) -> int:
        keys = self.keys.user(str(user))
        began = await self._run(lambda p: self._eval(p, "ERASE_BEGIN",
                                                     (keys.epoch, keys.index), ERASING_S))
        flat = [str(x) for x in began[0]]
        scopes = {flat[i]: Scope(flat[i + 1]) for i in range(0, len(flat), 2)}

        def fill(pipe: Any) -> None:  # each command on one session's slot; split per node
            for sid, scope in scopes.items():
                self._erase_from(pipe, sid, scope, str(user))

        erased = await self._run(fill) if scopes else []
        # Last, so that an erase cut short finds the index again when it is retried. The token
        # counts go too: "everything kept about you" includes them (a budget starts over).
        counts = (keys.usage(label) for label in usage.live_labels(self.clock()))
        await guard(self.redis.delete(*keys.all, keys.counted, *counts))  # one user, one slot
        # Conversations that held something of theirs (an index also lists those where a turn
        # was opened but never stored).
        return sum(int(result) > 0 if scope in PRIVATE_SCOPES else int(result) >= 0
                   for scope, result in zip(scopes.values(), erased, strict=True))

    def _erase_from(self, pipe: Any, sid: str, scope: Scope, user: str) -> None:
        keys = self.keys.session(sid)
        if scope in PRIVATE_SCOPES:
            pipe.delete(*keys.all)  # one conversation, one slot; its lock too
        else:
            self._eval(pipe, "ERASE_SHARED", (keys.history, keys.meta, keys.files, keys.lock,
                                              keys.authors), user)
