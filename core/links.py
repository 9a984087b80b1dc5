"""One person across platforms: linking codes, the identity -> person links, and their cache.

A link is a pointer on the identity's own key (`{u:telegram:42}:p` -> person id) plus the
person's member set on the person's key. Codes and their guards share one hash tag. A turn
never reads a link on its own: it takes this process's cached guess, and the store checks the
guess in the open round trip it makes anyway (`LinkCheck`); a wrong guess is corrected there.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from cachetools import TTLCache

from core import usage
from core.connect import guard
from core.errors import NotLinked, TooManyCodes, WrongCode
from core.keys import KeySpace, UserKey, parse_user, person_key
from core.link_codes import (
    ATTEMPTS_PER_MINUTE,
    CODE_SECONDS,
    CODE_WINDOW_MS,
    CODES_PER_WINDOW,
    KEEP_MS,
    LOCK_SECONDS,
    MAX_TRIES,
    Code,
    claimed,
    from_ms,
    new_code,
    normalize,
)
from core.redis_store import RedisStore

# Non-turn reads (history, usage, whoami) trust a cached link this long; turns check it always.
CACHE_SECONDS, CACHE_SIZE = 60.0, 10_000


@dataclass(frozen=True, slots=True)
class Person:
    """One human: the identities linked together (only ever shown to that person)."""

    identities: tuple[UserKey, ...]

    @property
    def linked(self) -> bool:
        return len(self.identities) > 1


def movers(here: str, there: str, maker: UserKey, redeemer: UserKey
           ) -> list[tuple[str, UserKey]]:
    """Who joins whom, as (their person id or "", identity): the maker's person stays."""
    if here:
        return [(there, redeemer)]  # the redeemer alone, or its whole person
    if there:
        return [("", maker)]
    return [("", maker), ("", redeemer)]


class Links:
    """Links of identities to persons in Redis, with a bounded cache of this process's guesses."""

    def __init__(self, store: RedisStore, clock: Callable[[], float] | None = None,
                 timer: Callable[[], float] = time.monotonic) -> None:
        self.store, self.keys = store, store.keys
        self._clock = clock  # wall time: when codes expire and locks end; else the store's
        self.cache: TTLCache[str, str] = TTLCache(CACHE_SIZE, CACHE_SECONDS, timer=timer)

    def clock(self) -> float:
        return (self._clock or self.store.clock)()

    def guess(self, user: UserKey) -> str:
        """The cached person id of `user` ("" when unknown or not linked); no I/O."""
        return self.cache.get(str(user), "")

    def learn(self, user: UserKey, person: str) -> None:
        self.cache[str(user)] = person

    async def person(self, user: UserKey, *, fresh: bool = False) -> str:
        """The person id `user` is linked to, or ""; read from Redis when not cached (or
        `fresh`: what erases or shows links never trusts another process's old news)."""
        found = None if fresh else self.cache.get(str(user))
        if found is None:
            found = str(await guard(self.store.redis.get(self.keys.user(str(user)).person)) or "")
            self.learn(user, found)
        return found

    async def make_code(self, user: UserKey) -> Code:
        who, now = await self._who(user), self.clock()
        code, links = new_code(), self.keys.links()
        value = f"{user}|{int((now + CODE_SECONDS) * 1000)}"
        wait = await self._eval("LINK_CODE", (links.made(who), links.latest(str(user)),
                                              links.everyone(int(now // 60))),
                                links.code(code), value, KEEP_MS, CODES_PER_WINDOW,
                                CODE_WINDOW_MS, ATTEMPTS_PER_MINUTE, links.code(""))
        if int(wait):
            raise TooManyCodes(int(wait) / 1000)
        return Code(code, from_ms(int((now + CODE_SECONDS) * 1000)))

    async def redeem(self, user: UserKey, code: str) -> str:
        """The identity that made `code`, once; WrongCode, CodeExpired, OwnCode, LinkLocked..."""
        clean = normalize(code)
        if clean is None:
            raise WrongCode(None)
        who, now_ms, links = await self._who(user), int(self.clock() * 1000), self.keys.links()
        answer = await self._eval("LINK_CLAIM", (links.tries(who), links.code(clean),
                                                 links.everyone(now_ms // 60_000)),
                                  now_ms, MAX_TRIES, LOCK_SECONDS * 1000, links.latest(""),
                                  ATTEMPTS_PER_MINUTE, str(user))
        return claimed(list(answer), now_ms)

    async def join(self, maker: UserKey, redeemer: UserKey) -> Person:
        """Make the two identities (and whoever is linked to them) one person."""
        here, there = await self._pointers(maker, redeemer)
        if here and here == there:
            return await self.whoami(maker)
        target = here or there or secrets.token_hex(8)
        for old, identity in movers(here, there, maker, redeemer):
            members = await self._members(old) if old else [identity]
            await self._move(members, person_key(old) if old else identity, target)
        return await self.whoami(maker)

    async def unlink(self, user: UserKey) -> None:
        """Split `user` off its person; it keeps the tokens the person used this period."""
        person = await self.person(user, fresh=True)
        if not (await self.whoami(user)).linked:
            raise NotLinked  # alone, maybe the last of a person: it keeps that conversation
        payer = person_key(person)
        await self._carry(payer, user, add=False)
        await self.store._run(lambda p: (p.delete(self.keys.user(str(user)).person),
                                         p.srem(self.keys.user(str(payer)).members, str(user))))
        self.learn(user, "")

    async def whoami(self, user: UserKey) -> Person:
        """`user` and the identities still linked with it (a link unused for the history's
        TTL has lapsed; the member set may still name it)."""
        person = await self.person(user, fresh=True)
        members = await self._members(person) if person else []
        found = await self._pointers(*members)
        kept = [m for m, p in zip(members, found, strict=True) if p == person]
        return Person(tuple(sorted(kept or [user], key=str)))

    async def forget(self, user: UserKey, erase: Callable[[UserKey], Awaitable[int]]) -> int:
        """Erase every identity linked to `user` (with `erase`), then the person and its links."""
        person = await self.person(user, fresh=True)
        members = await self._members(person) if person else []
        members += [user] if user not in members else []
        touched = 0
        for member in members:
            touched += await erase(member)
        if person:
            touched += await erase(person_key(person))
        await self._drop_links(members, person)  # last: a forget cut short finds them again
        return touched

    async def _drop_links(self, members: list[UserKey], person: str) -> None:
        """Delete the pointers, the member set, and every code and guard naming them."""
        links, whose = self.keys.links(), [str(m) for m in members]
        pending = await self.store._run(lambda p: [p.get(links.latest(w)) for w in whose])
        gone = [self.keys.user(w).person for w in whose] + [links.latest(w) for w in whose]
        gone += [links.code(str(c)) for c in pending if c]  # their value names the maker
        if person:
            whose.append(str(person_key(person)))
            gone.append(self.keys.user(whose[-1]).members)
        gone += [k for w in whose for k in (links.made(w), links.tries(w))]
        await self.store._run(lambda p: [p.delete(k) for k in gone])  # one slot each
        for member in members:
            self.learn(member, "")

    async def _who(self, user: UserKey) -> str:
        """Whom linking's guards count for: the person when linked, else the identity."""
        person = await self.person(user)
        return str(person_key(person)) if person else str(user)

    async def _pointers(self, *users: UserKey) -> list[str]:
        found = await self.store._run(lambda p: [p.get(self.keys.user(str(u)).person)
                                                 for u in users])
        return [str(f or "") for f in found]

    async def _members(self, person: str) -> list[UserKey]:
        key = self.keys.user(str(person_key(person))).members
        return [parse_user(str(m)) for m in await guard(self.store.redis.smembers(key))]

    async def _move(self, members: list[UserKey], payer: UserKey, target: str) -> None:
        await self._carry(payer, person_key(target), add=True)
        members_key = self.keys.user(str(person_key(target))).members
        ttl = self.store.ttl  # kept while used: each turn of a linked identity renews both
        await self.store._run(lambda p: [
            p.sadd(members_key, *(str(m) for m in members)), p.expire(members_key, ttl),
            *(p.set(self.keys.user(str(m)).person, target, ex=ttl) for m in members)])
        for member in members:
            self.learn(member, target)

    async def _carry(self, source: UserKey, dest: UserKey, *, add: bool) -> None:
        """Add (or copy) `source`'s tokens of the live day and month into `dest`'s."""
        windows = usage.windows(self.clock())
        src, dst = self.keys.user(str(source)), self.keys.user(str(dest))
        counts = await self.store._run(lambda p: [p.hmget(src.usage(w.label), "in", "out")
                                                  for w in windows])

        def fill(pipe: Any) -> None:
            for window, (tin, tout) in zip(windows, counts, strict=True):
                if add and not (tin or tout):
                    continue  # no key for nothing
                key = dst.usage(window.label)
                if add:
                    pipe.hincrby(key, "in", int(tin or 0))
                    pipe.hincrby(key, "out", int(tout or 0))
                else:
                    pipe.hset(key, mapping={"in": int(tin or 0), "out": int(tout or 0)})
                pipe.expireat(key, window.expire_at)

        await self.store._run(fill)

    async def _eval(self, name: str, keys: tuple[str, ...], *args: str | int) -> Any:
        return (await self.store._run(lambda p: self.store._eval(p, name, keys, *args)))[0]


def links_of(store: object, clock: Callable[[], float] | None = None) -> Links | None:
    """The links beside a Redis-backed store (also the one a LangChain store wraps)."""
    rstore = store if isinstance(store, RedisStore) else getattr(store, "rstore", None)
    return Links(rstore, clock) if isinstance(rstore, RedisStore) else None


__all__ = ["Code", "KeySpace", "Links", "Person", "links_of"]
