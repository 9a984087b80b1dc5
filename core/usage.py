"""Token budgets per person: the setting, the UTC day and month they count in, and the tally.

Usage is counted in Redis per person and period (`{u:<user>}:use:d:2026-12-04` and
`{u:<user>}:use:m:2026-12`, fields `in`, `out` and `c`, the cost in billionths of the
configured currency, priced by the turn's preset when it is counted). The rate-limit script
reads them before a turn is admitted, so a budget holds across processes; turns already in
flight when it is reached still finish and count (the overshoot is at most those turns).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from langchain_core.messages import BaseMessage

from core.errors import BudgetExceeded

PeriodName = Literal["day", "month"]
_BUDGET = re.compile(r"^\s*(\d[\d_]*)\s*([km]?)\s*/\s*(day|month)s?\s*$")
_SCALE = {"": 1, "k": 1_000, "m": 1_000_000}
GRACE_S = 3600  # a period's counter outlives its end by this much (clock skew between hosts)
NANO = 1_000_000_000  # costs are counted in billionths: integers add exactly in Redis


@dataclass(frozen=True, slots=True)
class Budget:
    """Tokens a person may use per UTC day and/or month; None: no limit for that period."""

    day: int | None = None
    month: int | None = None

    @classmethod
    def parse(cls, text: str) -> Budget | None:
        """`200000/day`, `3m/month`, or both comma-separated; blank: no budget."""
        found: dict[str, int] = {}
        for part in (p for p in text.lower().split(",") if p.strip()):
            match = _BUDGET.match(part)
            if not match or match.group(3) in found or int(match.group(1)) < 1:
                raise ValueError("expected a token budget like 200000/day, 3000000/month or "
                                 f"both comma-separated, got {text!r}")
            found[match.group(3)] = int(match.group(1)) * _SCALE[match.group(2)]
        return cls(found.get("day"), found.get("month")) if found else None

    def limit(self, period: PeriodName) -> int | None:
        return self.day if period == "day" else self.month


def parse_budget(value: Any) -> Budget | None:
    """The settings validator: a `Budget`, or None for unset or blank."""
    if value is None or isinstance(value, Budget):
        return value
    return Budget.parse(str(value))


@dataclass(frozen=True, slots=True)
class Window:
    """One counting period: its key label (`d:2026-12-04`, `m:2026-12`) and when it ends."""

    name: PeriodName
    label: str
    ends: datetime

    @property
    def expire_at(self) -> int:
        """When its counter may go (epoch seconds)."""
        return int(self.ends.timestamp()) + GRACE_S


def windows(now: float) -> tuple[Window, Window]:
    """The UTC day and month that `now` (epoch seconds) falls in."""
    at = datetime.fromtimestamp(now, UTC)
    day = at.replace(hour=0, minute=0, second=0, microsecond=0)
    month = day.replace(day=1)
    next_month = (month + timedelta(days=32)).replace(day=1)
    return (Window("day", f"d:{day:%Y-%m-%d}", day + timedelta(days=1)),
            Window("month", f"m:{month:%Y-%m}", next_month))


def live_labels(now: float) -> set[str]:
    """Every period whose counts may still exist: this day and month, and the ones just ended
    (a period's counts outlive it by less than an hour)."""
    return {w.label for at in (now, now - GRACE_S) for w in windows(at)}


@dataclass(frozen=True, slots=True)
class Period:
    """One period's tally: tokens in and out, its limit (None: none), when it resets, and what
    it cost (None: no preset has prices)."""

    name: PeriodName
    tokens_in: int
    tokens_out: int
    limit: int | None
    resets_at: datetime
    cost: float | None = None
    voice_seconds: int = 0  # transcribed
    tool_calls: int = 0

    @property
    def tokens(self) -> int:
        return self.tokens_in + self.tokens_out

    @property
    def left(self) -> int | None:
        """Tokens left before the limit (None: no limit)."""
        return None if self.limit is None else max(self.limit - self.tokens, 0)


@dataclass(frozen=True, slots=True)
class Usage:
    """A person's tokens today and this month (UTC), with their limits and cost."""

    day: Period
    month: Period
    currency: str | None = None  # None: nothing is priced

    @property
    def cost(self) -> float | None:
        """This month's cost (it includes today's)."""
        return self.month.cost


def money(nano: Any, currency: str | None) -> float | None:
    """A stored cost (billionths) as an amount; None when nothing is priced."""
    return None if currency is None else round(int(nano or 0) / NANO, 9)


def amount(cost: float, currency: str) -> str:
    """`1,234.50 USD`, or below one, up to six decimals: `0.000123 USD` (tokens are cheap)."""
    figure = f"{cost:,.2f}" if cost >= 1 else f"{cost:.6f}".rstrip("0").rstrip(".")
    return f"{figure} {currency}"


FIELDS = ("in", "out", "c", "a", "t")  # a usage hash: tokens, cost, voice seconds, tool calls


def tally(now: float, budget: Budget | None, counts: list[list[Any]],
          currency: str | None = None) -> Usage:
    """`Usage` from the two counters' `HMGET` of `FIELDS` (day first)."""
    day, month = (_period(w, c, budget, currency) for w, c in zip(windows(now), counts,
                                                                   strict=True))
    return Usage(day, month, currency)


def _period(window: Window, counts: list[Any], budget: Budget | None,
            currency: str | None) -> Period:
    found = [*counts, *[None] * (len(FIELDS) - len(counts))]
    return Period(window.name, int(found[0] or 0), int(found[1] or 0),
                  budget.limit(window.name) if budget else None, window.ends,
                  money(found[2] or 0, currency), int(found[3] or 0), int(found[4] or 0))


def nano_cost(tokens_in: int, tokens_out: int, per_million: tuple[float, float] | None) -> int:
    """A turn's cost in billionths, from its preset's prices per million tokens in and out."""
    if per_million is None:
        return 0
    return round(tokens_in * per_million[0] * 1000 + tokens_out * per_million[1] * 1000)


@dataclass(slots=True)
class Tokens:
    """Tokens one turn spent on model calls: prompt (`tokens_in`) and completion (`out`), of
    which `summary_in` and `summary_out` went to the rolling summary."""

    tokens_in: int = 0
    tokens_out: int = 0
    summary_in: int = 0
    summary_out: int = 0

    @property
    def pair(self) -> tuple[int, int]:
        """(in, out), as the store takes them."""
        return self.tokens_in, self.tokens_out

    def add(self, message: BaseMessage, summary: bool = False) -> int:
        """Count one model reply (or stream chunk) that reports usage; returns its total."""
        usage = getattr(message, "usage_metadata", None)
        if not usage:
            return 0
        spent = int(usage.get("input_tokens") or 0), int(usage.get("output_tokens") or 0)
        self.tokens_in += spent[0]
        self.tokens_out += spent[1]
        if summary:
            self.summary_in += spent[0]
            self.summary_out += spent[1]
        return int(usage.get("total_tokens") or 0)


@dataclass(frozen=True, slots=True)
class Spend:
    """What a turn spent, for the store and the metrics: by which preset, and its cost."""

    preset: str  # the preset whose model answered (a fallback's, when one did)
    tokens: Tokens
    cost: int = 0  # billionths of `currency`; 0 when the preset has no prices
    currency: str | None = None


def refusal(code: int, budget: Budget, now: float) -> BudgetExceeded:
    """The error for RATE's reply `code` (-1: the day's budget, -2: the month's)."""
    window = windows(now)[-code - 1]
    limit = budget.limit(window.name) or 0
    return BudgetExceeded(window.name, limit, window.ends, window.ends.timestamp() - now)


def limits(budget: Budget | None) -> tuple[int, int]:
    """RATE's day and month limit arguments (0: none)."""
    return (budget.day or 0, budget.month or 0) if budget else (0, 0)
