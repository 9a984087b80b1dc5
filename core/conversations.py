"""What `ChatService` answers besides turns: conversations, choices, usage and erasure."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable

from core.export import ExportFile, chunks, collect
from core.identities import Identities
from core.keys import SessionKey, UserKey
from core.messages import StoredMessage
from core.presets import Catalog, Menu
from core.settings import CoreSettings
from core.spending import Spending
from core.store import Choice, HistoryStore, SessionInfo
from core.usage import Usage

# What a platform keeps about a person outside the store (raw updates not yet handled) and
# how to erase it; returns how many items went. Registered by the composition root.
Eraser = Callable[[UserKey], Awaitable[int]]


class Conversations(Identities, Spending):
    """The service's queries and commands on stored conversations; no model call here.

    A linked person's DMs may be one stored conversation (`_stored`), and their rate, budget
    and usage are the person's (`_payer`).
    """

    store: HistoryStore
    catalog: Catalog
    settings: CoreSettings
    erasers: tuple[Eraser, ...] = ()  # a tuple: rebound per service by `add_eraser`, never shared

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

    def add_eraser(self, eraser: Eraser) -> None:
        """Have `forget` also erase what a platform keeps about a person outside the store."""
        self.erasers = (*self.erasers, eraser)

    async def forget(self, user: UserKey) -> int:
        """Erase everything kept about one user (GDPR Art. 17) and every identity linked with
        them; returns conversations touched.

        The store first: from its start no new turn of theirs is stored. Then what platforms
        keep (a raw update of theirs still in an inbox), for each identity."""
        return await self._erase_person(user, self._erase_identity)

    async def _erase_identity(self, user: UserKey) -> int:
        touched = await self.store.erase_user(user)
        for erase in self.erasers:
            await erase(user)
        return touched

    def export(self, user: UserKey) -> AsyncIterator[bytes]:
        """Everything kept about one user as JSON (GDPR Art. 20), in chunks: see core/export.py."""
        return chunks(self.store, user, time.time(), self.settings.history_max_messages)

    async def export_file(self, user: UserKey) -> ExportFile:
        """The same as one file with a name, for platforms that send it as a document."""
        return await collect(self.export(user), time.time())
