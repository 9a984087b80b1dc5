"""The service's side of linked accounts: where one identity's turn is kept, and /link itself."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from core.errors import LinkingOff
from core.keys import LinkCheck, Scope, SessionKey, UserKey, parse_user, person_dm, person_key
from core.links import Code, Links, Person
from core.settings import CoreSettings
from core.store import HistoryStore


@dataclass(frozen=True, slots=True)
class Where:
    """Where one identity's turn is kept and whose rate, budget and usage it counts against."""

    session: SessionKey
    payer: UserKey
    check: LinkCheck | None  # what the store verifies in the open trip (None: linking off)


def where(session: SessionKey, user: UserKey, person: str, *, shared: bool,
          linking: bool = True) -> Where:
    """A turn's keys for `user` linked to `person` ("" for none); pure."""
    payer = person_key(person) if person else user
    own_dm = session.scope is Scope.DIRECT and session == SessionKey.direct(user)
    stored = person_dm(person) if person and shared and own_dm else session
    return Where(stored, payer, LinkCheck(user, person) if linking else None)


class Identities:
    """Mixed into the service: link, unlink, whoami, and the person behind each identity."""

    links: Links | None
    settings: CoreSettings
    store: HistoryStore

    def _where(self, session: SessionKey, user: UserKey, person: str | None = None) -> Where:
        """Keys from this process's cached guess; the open trip checks it (no I/O here)."""
        if self.links is None:
            return where(session, user, "", shared=False, linking=False)
        guess = self.links.guess(user) if person is None else person
        return where(session, user, guess, shared=self.settings.linked_dms == "shared")

    async def _stored(self, session: SessionKey) -> SessionKey:
        """The conversation a session id stands for: a linked person's DMs may be one."""
        if self.links is None or self.settings.linked_dms != "shared" or \
                session.scope is not Scope.DIRECT:
            return session
        person = await self.links.person(UserKey(session.platform, session.parts))
        return person_dm(person) if person else session

    async def _payer(self, user: UserKey) -> UserKey:
        person = await self.links.person(user) if self.links else ""
        return person_key(person) if person else user

    def _linker(self) -> Links:
        if self.links is None:
            raise LinkingOff
        return self.links

    async def link_code(self, user: UserKey) -> Code:
        """A one-time code (10 minutes) that links the identity sending it back to `user`."""
        return await self._linker().make_code(user)

    async def link(self, user: UserKey, code: str) -> Person:
        """Join `user` with the identity that made `code` into one person."""
        links = self._linker()
        maker = await links.redeem(user, code)
        return await links.join(parse_user(maker), user)

    async def unlink(self, user: UserKey) -> None:
        """Split `user` off its person (NotLinked if it is alone)."""
        await self._linker().unlink(user)

    async def whoami(self, user: UserKey) -> Person:
        """The identities linked with `user`: for that person's own eyes only."""
        return await self.links.whoami(user) if self.links else Person((user,))

    async def _erase_person(self, user: UserKey,
                            erase: Callable[[UserKey], Awaitable[int]]) -> int:
        """Erase (`erase`) every identity linked with `user`, their shared keys and the links."""
        if self.links is None:
            return await erase(user)
        return await self.links.forget(user, erase)
