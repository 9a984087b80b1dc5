"""Everyone's tokens and cost per platform, today and this month: what admins see.

Counted with each turn's own count (the commit's round trip) in one hash per period,
`{g:use}:d:2026-12-04` and `{g:use}:m:2026-12`, fields `<platform>:in`, `:out` and `:c`.
Nothing in them names a person.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.usage import PeriodName, money, windows


@dataclass(frozen=True, slots=True)
class PlatformTotal:
    """One platform's tokens in and out in one period, and their cost (None: unpriced)."""

    platform: str
    tokens_in: int
    tokens_out: int
    cost: float | None

    @property
    def tokens(self) -> int:
        return self.tokens_in + self.tokens_out


@dataclass(frozen=True, slots=True)
class PeriodTotals:
    """Every platform's totals in one period, busiest first."""

    name: PeriodName
    resets_at: datetime
    platforms: tuple[PlatformTotal, ...]

    @property
    def tokens(self) -> int:
        return sum(p.tokens for p in self.platforms)

    @property
    def cost(self) -> float | None:
        costs = [p.cost for p in self.platforms if p.cost is not None]
        return round(sum(costs), 9) if costs else None


@dataclass(frozen=True, slots=True)
class Totals:
    """Today's and this month's totals per platform, and the currency of their costs."""

    day: PeriodTotals
    month: PeriodTotals
    currency: str | None = None


def platforms_of(fields: dict[str, Any], currency: str | None) -> tuple[PlatformTotal, ...]:
    """`PlatformTotal`s from one totals hash (`<platform>:in|out|c` -> count)."""
    found: dict[str, dict[str, int]] = {}
    for field, value in fields.items():
        platform, _, kind = str(field).rpartition(":")
        found.setdefault(platform, {})[kind] = int(value)
    rows = (PlatformTotal(name, got.get("in", 0), got.get("out", 0),
                          money(got.get("c", 0), currency)) for name, got in found.items())
    return tuple(sorted(rows, key=lambda r: (-r.tokens, r.platform)))


def totals_of(now: float, hashes: list[dict[str, Any]], currency: str | None) -> Totals:
    """`Totals` from the day's and the month's `HGETALL` replies."""
    day, month = (PeriodTotals(w.name, w.ends, platforms_of(h, currency))
                  for w, h in zip(windows(now), hashes, strict=True))
    return Totals(day, month, currency)
