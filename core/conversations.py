"""What `ChatService` answers besides turns: conversations, choices, usage and erasure."""

from __future__ import annotations

from core.identities import Identities
from core.keys import SessionKey, UserKey
from core.messages import StoredMessage
from core.presets import Catalog, Menu
from core.settings import CoreSettings
from core.spending import Spending
from core.store import Choice, HistoryStore, SessionInfo
from core.usage import Usage


class Conversations(Identities, Spending):
    """The service's queries and commands on stored conversations; no model call here.

    A linked person's DMs may be one stored conversation (`_stored`), and their rate, budget
    and usage are the person's (`_payer`).
    """

    store: HistoryStore
    catalog: Catalog
    settings: CoreSettings

    async def reset(self, session: SessionKey, user: UserKey) -> None:
        await self.store.reset(await self._stored(session), user)

    def menu(self, session: SessionKey) -> Menu:
        """The presets and personas this conversation may choose, with their descriptions."""
        return self.catalog.menu(session)

    async def choose(self, session: SessionKey, *, model: str | None = None,
                     persona: str | None = None) -> Choice:
        """Keep a preset and/or persona with the conversation; UnknownChoice if not offered."""
        self.catalog.check(session, model, persona)
        stored = await self._stored(session)
        await self.store.choose(stored, model, persona)
        return await self.store.choice(stored)

    async def choice(self, session: SessionKey) -> Choice:
        return await self.store.choice(await self._stored(session))

    async def history(self, session: SessionKey, limit: int = 50) -> list[StoredMessage]:
        return await self.store.read(await self._stored(session), limit)

    async def info(self, session: SessionKey) -> SessionInfo | None:
        """One conversation's listing (title, message count, times), or None if empty."""
        return await self.store.info(await self._stored(session))

    async def sessions(self, user: UserKey) -> list[SessionInfo]:
        return await self.store.sessions(user)

    async def usage(self, user: UserKey, roles: frozenset[str] = frozenset()) -> Usage:
        """The person's tokens today and this month (UTC), with their budget's limits and
        cost; `roles` are those their platform gave them (`Speaker.roles`)."""
        budget = self.budget(user, roles)
        return await self.store.usage(await self._payer(user), budget, self.currency)

    async def forget(self, user: UserKey) -> int:
        """Erase everything kept about one user (GDPR Art. 17) and every identity linked with
        them; returns conversations touched."""
        return await self._erase_person(user)
