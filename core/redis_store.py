"""`RedisStore`: history, rate limits and turn locks on plain Redis lists, hashes and sets."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import time
from collections.abc import Callable
from typing import Any

from redis.exceptions import NoScriptError, RedisError

from core import durability, lua
from core.connect import guard
from core.erasure import Erasure, Opened
from core.errors import ConversationBusy, DuplicateTurn, LinkChanged, LockLost, StoreUnavailable
from core.keys import KeySpace, LinkCheck, SessionKey, UserKey
from core.messages import StoredMessage
from core.person_limits import PersonLimits
from core.redis_conversations import ConversationData, choice_of
from core.redis_modes import AnyRedis
from core.settings import Rate
from core.store import Loaded, TurnWrite
from core.usage import Budget

# Renewed while a reply runs, so it can be short: a crashed holder frees the conversation fast.
LOCK_MS = 30_000
# Images kept per conversation; past it the oldest go (their messages say so to the model).
MAX_IMAGES = 16
ERASE_SCRIPTS = ("ENTER", "REGISTER", "USE_IF", "AUTHORS", "ERASE_BEGIN")  # core/erasure.py


class Scripts:
    """SHA1s of the Lua scripts; EVALSHA keeps a turn's requests small and in one pipeline."""

    def __init__(self) -> None:
        self.source = {name: lua.SOURCES[name] for name in
                       ("RATE", "USE", "TOTAL", "OPEN", "COMMIT", "REPLACE", "KEEP", "RELEASE",
                        "ERASE_SHARED", "LINK_CODE", "LINK_CLAIM", *ERASE_SCRIPTS)}
        self.sha = {n: hashlib.sha1(s.encode()).hexdigest() for n, s in self.source.items()}  # noqa: S324

    async def load(self, redis: AnyRedis) -> None:
        # On a Cluster, redis-py sends SCRIPT LOAD to every primary.
        for source in self.source.values():
            await redis.script_load(source)


class RedisStore(PersonLimits, Erasure, ConversationData):
    """The real `HistoryStore`; every method is one round trip on the happy path."""

    def __init__(self, redis: AnyRedis, prefix: str, ttl: int, max_messages: int,
                 busy_timeout: float = 120.0, lock_ms: int = LOCK_MS,
                 clock: Callable[[], float] = time.time, replicas: int = 0) -> None:
        self.redis, self.keys, self.ttl = redis, KeySpace(prefix), ttl
        self.durability = durability.Durability(redis, replicas)
        self.clock = clock
        self.max_messages, self.busy_timeout, self.lock_ms = max_messages, busy_timeout, lock_ms
        self.scripts = Scripts()
        # Lock tokens of this process's finished turns, oldest first. A failover can lose the
        # write that freed a lock; a stale lock of ours must not stall its conversation.
        self._ended: dict[str, None] = {}
        self._opened: dict[str, Opened] = {}  # open turns' epoch and co-authors, by lock token

    async def _run(self, fill: Callable[[Any], object]) -> list[Any]:
        """Run a pipeline once; reload scripts and rerun if a server forgot them.

        On a Cluster redis-py splits the pipeline per node and returns results in order; a
        node promoted by a failover has an empty script cache. Every command is safe to rerun.
        """
        try:
            for attempt in (1, 2):
                pipe = self.redis.pipeline(transaction=False)
                fill(pipe)
                results = await pipe.execute(raise_on_error=False)
                if attempt == 1 and any(isinstance(r, NoScriptError) for r in results):
                    await self.scripts.load(self.redis)
                    continue
                for result in results:
                    if isinstance(result, Exception):
                        raise result
                return list(results)
        except RedisError as exc:
            raise StoreUnavailable(str(exc)) from exc
        raise AssertionError("unreachable")

    def _eval(self, pipe: Any, name: str, keys: tuple[str, ...], *args: str | int) -> None:
        pipe.evalsha(self.scripts.sha[name], len(keys), *keys, *args)

    async def open_turn(self, session: SessionKey, user: UserKey, turn_id: str,
                        rate: Rate, window: int, admitted: bool = False,
                        images: int = 0, cost: int = 1, budget: Budget | None = None,
                        link: LinkCheck | None = None) -> Loaded:
        token, stale = secrets.token_hex(8), ""
        deadline = time.monotonic() + self.busy_timeout
        while True:
            # Admitted already: only the budget is checked again (RATE counts a turn id once).
            skip = admitted and budget is None
            counting, now = (None, 0.0) if skip else ((rate, budget), self.clock())
            results = await self._run(lambda p, r=counting, s=stale, t=now: self._open(  # type: ignore[misc]
                p, session, user, turn_id, r, (window, images, cost), token, s, t, link))
            at = 1 if link else 0  # the link's GET, then RATE's code, then OPEN, then ENTER
            code, opened = (int(results[at]), results[at + 1]) if counting else (0, results[at])
            await self._check_link(link, results, session, opened, token)
            if opened[0] == 1 and (code or not results[-1]):
                await self.release(session, token)
            if opened[0] == 2:
                raise DuplicateTurn(turn_id)
            self._refuse(code, budget, now)
            entered = self._entered(session, results)  # ErasePending while being erased
            if opened[0] == 1:
                self._remember(token, entered)
                return _loaded(opened, token)
            # Counted once: while it waits for the conversation, only the lock is retried.
            admitted = True
            if str(opened[2]) in self._ended:  # its release was lost (a failover): take it over
                stale = str(opened[2])
                continue
            if time.monotonic() > deadline:
                raise ConversationBusy(str(session))
            await asyncio.sleep(min(0.05 + max(int(opened[1]), 0) / 4000, 0.5))

    def _open(self, pipe: Any, session: SessionKey, user: UserKey, turn_id: str,
              limits: tuple[Rate, Budget | None] | None, reads: tuple[int, int, int],
              token: str, stale: str, now: float, link: LinkCheck | None) -> None:
        window, images, cost = reads
        if link is not None:  # the sender's link, on its own key: read in the same trip
            pipe.get(self.keys.user(str(link.identity)).person)
        if limits is not None:
            self._rate(pipe, user, turn_id, limits[0], cost, limits[1], now)
        self._eval(pipe, "OPEN", self.keys.session(str(session)).all, token, self.lock_ms,
                   window, turn_id, stale, images)
        self._enter(pipe, session, user)

    async def _check_link(self, link: LinkCheck | None, results: list[Any],
                          session: SessionKey, opened: list[Any], token: str) -> None:
        """LinkChanged when the turn's keys were chosen for another person than the sender's."""
        if link is None or str(results[0] or "") == link.person:
            return
        if opened[0] == 1:
            await self.release(session, token)
        raise LinkChanged(str(results[0] or ""))

    def ended(self, token: str) -> None:
        """Note a lock whose turn is over: if its release is lost, the next turn may take it."""
        self._ended[token] = None
        self._opened.pop(token, None)
        if len(self._ended) > 4096:
            del self._ended[next(iter(self._ended))]

    async def commit_turn(self, session: SessionKey, user: UserKey, lock_token: str,
                          write: TurnWrite) -> bool:
        sid = str(session)
        keys = self.keys.session(sid)
        title = next((m.text[:80] for m in write.messages if m.role == "human"), "")
        summarized = write.summarized if write.summary is not None else -1
        now_ms = int(time.time() * 1000)
        args: tuple[str | int, ...] = (
            write.turn_id, lock_token, self.ttl, self.max_messages, now_ms, title,
            write.summary or "", summarized, len(write.files), MAX_IMAGES,
            *(part for pair in write.files for part in pair),
            *(m.encode() for m in write.messages))

        asked: list[Any] = []  # what the WAIT needs judged, per pipeline run
        payer = write.payer or user  # whose epoch, index and usage: a linked sender's person

        def fill(pipe: Any) -> None:
            if not session.private:  # the authors whose indexes its commits keep alive
                self._eval(pipe, "AUTHORS", (keys.lock, keys.authors), lock_token, str(user),
                           self.ttl)
            self._eval(pipe, "COMMIT", keys.all, *args)
            self._register(pipe, session, payer, lock_token)
            if payer != user:  # a linked sender's own index lists it too (their API sessions)
                index = self.keys.user(str(user)).index
                pipe.hset(index, sid, session.scope.value)
                pipe.expire(index, self.index_ttl)
            self.count_tokens(pipe, payer, write.turn_id, write.tokens, write.cost,
                              session.platform, self._epoch(lock_token), write.extra)
            self.renew_link(pipe, user, write.payer)
            asked.append(self.durability.queue(pipe))  # last: its answer is the pipeline's last

        try:
            results = await self._run(fill)
            await self.durability.check(results, asked[-1])
            at = 0 if session.private else 1
            return await self._settle(session, payer, int(results[at]), int(results[at + 1]))
        finally:
            self.ended(lock_token)

    def renew_link(self, pipe: Any, user: UserKey, payer: UserKey | None) -> None:
        """A linked identity's turn keeps its link alive (on the nodes the commit reaches)."""
        if payer is not None and payer != user:
            pipe.expire(self.keys.user(str(user)).person, self.ttl)
            pipe.expire(self.keys.user(str(payer)).members, self.ttl)

    async def replace_answer(self, session: SessionKey, lock_token: str, turn_id: str,
                             target: str, answer: StoredMessage, user: UserKey | None = None,
                             tokens: tuple[int, int] = (0, 0), cost: int = 0) -> bool:
        keys = self.keys.session(str(session))
        args = (turn_id, lock_token, self.ttl, target, answer.encode(), int(time.time() * 1000))

        asked: list[Any] = []

        def fill(pipe: Any) -> None:
            self._eval(pipe, "REPLACE", keys.all, *args)
            if user is not None:
                self.count_tokens(pipe, user, turn_id, tokens, cost, session.platform,
                                  self._epoch(lock_token))
            asked.append(self.durability.queue(pipe))

        try:
            results = await self._run(fill)
            await self.durability.check(results, asked[-1])
            replaced = int(results[0])
            if replaced == -1:
                raise LockLost(str(session))
            return bool(replaced)
        finally:
            self.ended(lock_token)

    async def keep_lock(self, session: SessionKey, lock_token: str) -> bool:
        lock = self.keys.session(str(session)).lock
        result = await self._run(lambda p: self._eval(p, "KEEP", (lock,), lock_token,
                                                      self.lock_ms))
        return bool(result[0])

    async def release(self, session: SessionKey, lock_token: str) -> None:
        lock = self.keys.session(str(session)).lock
        try:
            await self._run(lambda p: self._eval(p, "RELEASE", (lock,), lock_token))
        finally:
            self.ended(lock_token)

    async def ping(self) -> None:
        await guard(self.redis.ping())


def _loaded(opened: list[Any], token: str) -> Loaded:
    messages = [StoredMessage.decode(raw) for raw in opened[1]]
    pairs = opened[5]
    files = {str(pairs[i]): str(pairs[i + 1]) for i in range(0, len(pairs), 2)}
    return Loaded(messages, int(opened[2]), str(opened[3]), int(opened[4]), token, files,
                  choice_of(opened[6], opened[7]), str(opened[8] or ""))
