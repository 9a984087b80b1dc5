"""The per-person side of `RedisStore`: message rate, token budget and token counts.

A person's keys share one hash tag (one Cluster slot). RATE checks the budget and counts the
message; USE adds a turn's tokens. Both ride in pipelines the store sends anyway: a turn's
first and last round trips.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from core import usage
from core.errors import RateLimited
from core.keys import KeySpace, UserKey
from core.settings import Rate
from core.totals import Totals, totals_of
from core.usage import Budget, Usage

# How long a counted message is remembered: longer than it can wait for a busy conversation
# and than the platforms' redelivery windows.
ADMITTED_MS = 3_600_000


class PersonLimits:
    """Mixed into `RedisStore`, which provides the keys, the clock and the pipelines."""

    keys: KeySpace
    clock: Callable[[], float]  # wall time (epoch seconds): which day and month tokens count in

    async def _run(self, fill: Callable[[Any], object]) -> list[Any]:
        raise NotImplementedError

    def _eval(self, pipe: Any, name: str, keys: tuple[str, ...], *args: str | int) -> None:
        raise NotImplementedError

    async def admit(self, user: UserKey, turn_id: str, rate: Rate, cost: int = 1,
                    budget: Budget | None = None) -> None:
        """Count one message against its sender's rate, once per turn id; RateLimited if over,
        BudgetExceeded if the sender's tokens reached `budget`."""
        now = self.clock()
        result = await self._run(lambda p: self._rate(p, user, turn_id, rate, cost, budget, now))
        self._refuse(int(result[0]), budget, now)

    def _refuse(self, code: int, budget: Budget | None, now: float) -> None:
        if code < 0 and budget is not None:
            raise usage.refusal(code, budget, now)
        if code > 0:
            raise RateLimited(code / 1000)

    def _rate(self, pipe: Any, user: UserKey, turn_id: str, rate: Rate, cost: int,
              budget: Budget | None, now: float) -> None:
        keys = self.keys.user(str(user))
        day, month = (keys.usage(w.label) for w in usage.windows(now))
        # More than the burst could never pass: a message with many files costs at most that.
        self._eval(pipe, "RATE", (keys.rate, keys.admitted, day, month), rate.interval_ms,
                   rate.count, turn_id, ADMITTED_MS, min(cost, rate.count),
                   *usage.limits(budget))

    def count_tokens(self, pipe: Any, user: UserKey, turn_id: str, tokens: tuple[int, int],
                     cost: int = 0, platform: str | None = None,
                     epoch: str | None = None, extra: tuple[int, int] = (0, 0)) -> None:
        """Add a turn's tokens (in, out) and cost (billionths) to its sender's day and month,
        and to `platform`'s totals, once per turn id; with an `epoch` (see core/erasure.py)
        only while the person was not erased since the turn's open."""
        if not any(tokens):
            return
        keys, now = self.keys.user(str(user)), self.clock()
        day, month = usage.windows(now)
        counted = (keys.counted, keys.usage(day.label), keys.usage(month.label))
        args = (turn_id, int(now * 1000), *tokens, day.expire_at, month.expire_at, cost,
                epoch or "", *extra)
        if epoch is None:
            self._eval(pipe, "USE", counted, *args)
        else:
            self._eval(pipe, "USE_IF", (*counted, keys.epoch), *args)
        if platform is not None:  # another slot: on a Cluster, its own node's share
            self._eval(pipe, "TOTAL", (self.keys.totals_counted, self.keys.totals(day.label),
                                       self.keys.totals(month.label)),
                       _anonymous(user, turn_id), int(now * 1000), platform, *tokens, cost,
                       day.expire_at, month.expire_at)

    async def usage(self, user: UserKey, budget: Budget | None,
                    currency: str | None = None) -> Usage:
        """The person's tokens today and this month, with `budget`'s limits; costs in
        `currency` (None: nothing is priced)."""
        keys, now = self.keys.user(str(user)), self.clock()
        counts = await self._run(lambda p: [p.hmget(keys.usage(w.label), *usage.FIELDS)
                                            for w in usage.windows(now)])
        return usage.tally(now, budget, counts, currency)

    async def totals(self, currency: str | None = None) -> Totals:
        """Everyone's tokens and cost today and this month, per platform (one slot)."""
        now = self.clock()
        found = await self._run(lambda p: [p.hgetall(self.keys.totals(w.label))
                                           for w in usage.windows(now)])
        return totals_of(now, found, currency)


def _anonymous(user: UserKey, turn_id: str) -> str:
    """The totals' id of a turn: unique per person and turn, but naming no one (the totals
    outlive `/forget`)."""
    return hashlib.blake2b(f"{user}\n{turn_id}".encode(), digest_size=12).hexdigest()
