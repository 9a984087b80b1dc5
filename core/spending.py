"""What a person may spend and what a turn cost: budgets by role, prices, admin totals."""

from __future__ import annotations

from core.keys import Speaker, UserKey
from core.presets import Catalog
from core.roles import ADMIN
from core.settings import CoreSettings
from core.store import HistoryStore
from core.totals import Totals
from core.turn import Work
from core.usage import Budget, Spend, nano_cost


class Spending:
    """The service's budget and price decisions; no model call and no round trip of its own
    except `totals`."""

    store: HistoryStore
    catalog: Catalog
    settings: CoreSettings

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

