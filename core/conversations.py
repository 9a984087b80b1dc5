"""What `ChatService` answers besides turns: conversations, choices, usage and erasure."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable

from core.export import ExportFile, chunks, collect
from core.keys import SessionKey, UserKey
from core.messages import StoredMessage
from core.presets import Catalog, Menu
from core.settings import CoreSettings
from core.store import Choice, HistoryStore, SessionInfo
from core.usage import Usage

# What a platform keeps about a person outside the store (raw updates not yet handled) and
# how to erase it; returns how many items went. Registered by the composition root.
Eraser = Callable[[UserKey], Awaitable[int]]


class Conversations:
    """The service's queries and commands on stored conversations; no model call here."""

    store: HistoryStore
    catalog: Catalog
    settings: CoreSettings
    erasers: tuple[Eraser, ...] = ()  # a tuple: rebound per service by `add_eraser`, never shared

    async def reset(self, session: SessionKey, user: UserKey) -> None:
        await self.store.reset(session, user)

    def menu(self, session: SessionKey) -> Menu:
        """The presets and personas this conversation may choose, with their descriptions."""
        return self.catalog.menu(session)

    async def choose(self, session: SessionKey, *, model: str | None = None,
                     persona: str | None = None) -> Choice:
        """Keep a preset and/or persona with the conversation; UnknownChoice if not offered."""
        self.catalog.check(session, model, persona)
        await self.store.choose(session, model, persona)
        return await self.store.choice(session)

    async def choice(self, session: SessionKey) -> Choice:
        return await self.store.choice(session)

    async def history(self, session: SessionKey, limit: int = 50) -> list[StoredMessage]:
        return await self.store.read(session, limit)

    async def info(self, session: SessionKey) -> SessionInfo | None:
        """One conversation's listing (title, message count, times), or None if empty."""
        return await self.store.info(session)

    async def sessions(self, user: UserKey) -> list[SessionInfo]:
        return await self.store.sessions(user)

    async def usage(self, user: UserKey) -> Usage:
        """The person's tokens today and this month (UTC), with the budget's limits."""
        return await self.store.usage(user, self.settings.token_budget)

    def add_eraser(self, eraser: Eraser) -> None:
        """Have `forget` also erase what a platform keeps about a person outside the store."""
        self.erasers = (*self.erasers, eraser)

    async def forget(self, user: UserKey) -> int:
        """Erase everything kept about one user (GDPR Art. 17); returns conversations touched.

        The store first: from its start no new turn of theirs is stored. Then what platforms
        keep (a raw update of theirs still in an inbox)."""
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
