"""`/usage` as text: a person's own tokens, cost and budget; with `all`, everyone's per platform
(for admins only)."""

from __future__ import annotations

from urllib.parse import unquote

from core.keys import UserKey
from core.service import ChatService
from core.totals import PeriodTotals
from core.usage import Period, amount

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


def _period(period: Period, currency: str | None = None) -> str:
    """`Today: 1,234 of 200,000 tokens, 198,766 left, 0.0123 USD (resets at 00:00 UTC).`"""
    at = period.resets_at
    span, reset = (("Today", f"at {at:%H:%M} UTC") if period.name == "day" else
                   ("This month", f"on {at:%B} {at.day} at 00:00 UTC"))
    tokens = (f"{period.tokens:,} tokens" if period.left is None else
              f"{period.tokens:,} of {period.limit:,} tokens, {period.left:,} left")
    cost = period.cost
    money = "" if cost is None or currency is None else f", {amount(cost, currency)}"
    extra = "".join((f", {period.voice_seconds:,} s of voice" if period.voice_seconds else "",
                     f", {plural(period.tool_calls, 'tool call')}" if period.tool_calls else ""))
    return f"{span}: {tokens}{money}{extra} (resets {reset})."


async def usage(service: ChatService, user: UserKey, roles: frozenset[str] = frozenset()) -> str:
    """`/usage`: the model tokens `user` used today and this month, what they cost, and the
    budget left; `roles` are those the platform gave them (`Speaker.roles`)."""
    used = await service.usage(user, roles)
    return f"{_period(used.day, used.currency)}\n{_period(used.month, used.currency)}"


def plural(count: int, noun: str) -> str:
    """`1 conversation`, `2 conversations`, `0 conversations`."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
