"""Token budgets per person: the setting, the UTC day and month they count in, and the tally.

Usage is counted in Redis per person and period (`{u:<user>}:use:d:2026-12-04` and
`{u:<user>}:use:m:2026-12`, fields `in` and `out`). The rate-limit script reads them before a
turn is admitted, so a budget holds across processes; turns already in flight when it is
reached still finish and count (the overshoot is at most those turns).
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
    """One period's tally: tokens in and out, its limit (None: none) and when it resets."""

    name: PeriodName
    tokens_in: int
    tokens_out: int
    limit: int | None
    resets_at: datetime

    @property
    def tokens(self) -> int:
        return self.tokens_in + self.tokens_out


@dataclass(frozen=True, slots=True)
class Usage:
    """A person's tokens today and this month (UTC), with their limits."""

    day: Period
    month: Period


def tally(now: float, budget: Budget | None, counts: list[list[Any]]) -> Usage:
    """`Usage` from the two counters' `HMGET in out` replies (day first)."""
    day, month = (Period(w.name, int(c[0] or 0), int(c[1] or 0),
                         budget.limit(w.name) if budget else None, w.ends)
                  for w, c in zip(windows(now), counts, strict=True))
    return Usage(day, month)


@dataclass(slots=True)
class Tokens:
    """Tokens one turn spent on model calls: prompt (`tokens_in`) and completion (`out`)."""

    tokens_in: int = 0
    tokens_out: int = 0

    @property
    def pair(self) -> tuple[int, int]:
        """(in, out), as the store takes them."""
        return self.tokens_in, self.tokens_out

    def add(self, message: BaseMessage) -> int:
        """Count one model reply (or stream chunk) that reports usage; returns its total."""
        usage = getattr(message, "usage_metadata", None)
        if not usage:
            return 0
        self.tokens_in += int(usage.get("input_tokens") or 0)
        self.tokens_out += int(usage.get("output_tokens") or 0)
        return int(usage.get("total_tokens") or 0)


def refusal(code: int, budget: Budget, now: float) -> BudgetExceeded:
    """The error for RATE's reply `code` (-1: the day's budget, -2: the month's)."""
    window = windows(now)[-code - 1]
    limit = budget.limit(window.name) or 0
    return BudgetExceeded(window.name, limit, window.ends, window.ends.timestamp() - now)


def limits(budget: Budget | None) -> tuple[int, int]:
    """RATE's day and month limit arguments (0: none)."""
    return (budget.day or 0, budget.month or 0) if budget else (0, 0)
