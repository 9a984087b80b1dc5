"""What `ChatService` answers besides turns: conversations, choices, usage and erasure."""

from __future__ import annotations

from core.keys import SessionKey, Speaker, UserKey
from core.messages import StoredMessage
from core.presets import Catalog, Menu
from core.roles import ADMIN
from core.settings import CoreSettings
from core.store import Choice, HistoryStore, SessionInfo
from core.totals import Totals
from core.turn import Work
from core.usage import Budget, Spend, Usage, nano_cost


class Conversations:
    """The service's queries and commands on stored conversations; no model call here."""

    store: HistoryStore
    catalog: Catalog
    settings: CoreSettings

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

    async def usage(self, user: UserKey, roles: frozenset[str] = frozenset()) -> Usage:
        """The person's tokens today and this month (UTC), with their budget's limits and
        cost; `roles` are those their platform gave them (`Speaker.roles`)."""
        budget = self.budget(user, roles)
        return await self.store.usage(user, budget, self.currency)

    def budget(self, user: UserKey, roles: frozenset[str] = frozenset()) -> Budget | None:
        """The person's token budget: their roles' (the most generous), else the setting's.
        Decided here, before the rate-limit script runs, so the check stays in its round trip."""
        table = self.catalog.roles
        return table.budget(table.of(user, roles), self.settings.token_budget)

    def budget_of(self, speaker: Speaker) -> Budget | None:
        return self.budget(speaker.user, speaker.roles)

    def is_admin(self, user: UserKey, roles: frozenset[str] = frozenset()) -> bool:
        """Whether the person may see everyone's totals: in the `admin` role, by the
        configuration's members or their platform's word."""
        return ADMIN in self.catalog.roles.of(user, roles)

    async def totals(self) -> Totals:
        """Everyone's tokens and cost today and this month, per platform (ask `is_admin`)."""
        return await self.store.totals(self.currency)

    @property
    def currency(self) -> str | None:
        """The currency of the presets' prices; None when no preset is priced."""
        return next((p.prices.currency for p in self.catalog.presets.values() if p.prices),
                    None)

    def price(self, preset: str, tokens: tuple[int, int]) -> int:
        """A turn's cost in billionths of `currency`, by the preset that spent the tokens."""
        found = self.catalog.presets.get(preset)
        prices = found.prices if found else None
        return nano_cost(*tokens, (prices.input, prices.output) if prices else None)

    def spend(self, work: Work) -> Spend:
        """What the turn spent, priced by the preset that answered."""
        preset = self.spender(work.preset_name, work.answered_by, work.fallback)
        return Spend(preset, work.spent, self.price(preset, work.spent.pair), self.currency)

    def spender(self, chosen: str, answered_by: str, fallback: bool) -> str:
        """The preset whose model answered: the chosen one, or the fallback whose model the
        provider named (providers add versions, `gpt-4o-2024-…`)."""
        preset = self.catalog.presets.get(chosen)
        if not fallback or preset is None:
            return chosen
        return next((name for name in preset.fallbacks
                     if answered_by.startswith(self.catalog.presets[name].model)), chosen)

    async def forget(self, user: UserKey) -> int:
        """Erase everything kept about one user (GDPR Art. 17); returns conversations touched."""
        return await self.store.erase_user(user)
