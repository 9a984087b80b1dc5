"""`/usage all`: everyone's tokens and cost per platform, as text, for admins only."""

from __future__ import annotations

from urllib.parse import unquote

from core.keys import UserKey
from core.service import ChatService
from core.totals import PeriodTotals
from core.usage import amount

NOT_ADMIN = "Only admins can see everyone's usage."


async def totals(service: ChatService, user: UserKey,
                 roles: frozenset[str] = frozenset()) -> str:
    """Today's and this month's tokens (and cost) per platform, or why `user` may not see
    them; `roles` are those the platform gave them (`Speaker.roles`)."""
    if not service.is_admin(user, roles):
        return NOT_ADMIN
    found = await service.totals()
    return "\n".join((*_lines("Today", found.day, found.currency),
                      *_lines("This month", found.month, found.currency)))


def _lines(span: str, period: PeriodTotals, currency: str | None) -> list[str]:
    """`Today, everyone: 1,234 tokens, 0.0123 USD` then one `  slack: ...` line per platform."""
    head = f"{span}, everyone: {period.tokens:,} tokens{_money(period.cost, currency)}"
    return [head, *(f"  {unquote(p.platform)}: {p.tokens:,} tokens ({p.tokens_in:,} in, "
                    f"{p.tokens_out:,} out){_money(p.cost, currency)}"
                    for p in period.platforms)]


def _money(cost: float | None, currency: str | None) -> str:
    if cost is None or currency is None:
        return ""
    return f", {amount(cost, currency)}"
