"""Telegram's flood limits, kept by python-telegram-bot's own `AIORateLimiter` before a 429."""

from __future__ import annotations

from dataclasses import dataclass

from telegram.ext import AIORateLimiter

RETRIES = 3  # a 429 that slips through anyway is waited out and retried this often


@dataclass(frozen=True, slots=True)
class Limit:
    """At most `count` requests in any `window` seconds; `burst` of them may go at once."""

    count: int
    window: float
    burst: int

    def __post_init__(self) -> None:
        if not 0 < self.burst < self.count - 1 or self.window <= 0:
            raise ValueError("a limit needs 0 < burst < count - 1 and a positive window")

    def bucket(self) -> tuple[float, float]:
        """(max_rate, time_period) of an aiolimiter bucket that never exceeds this limit.

        aiolimiter is a leaky bucket: `max_rate` requests at once, then `max_rate` per
        `time_period`. In any window it lets through burst + window * rate requests, so
        PTB's defaults (20 per 60 s) allow 40 in a group's first minute. The rate here leaves
        one request in hand, for requests that reach Telegram a little out of step.
        """
        return self.burst, self.window * self.burst / (self.count - 1 - self.burst)


OVERALL = Limit(30, 1.0, burst=10)  # about 30 messages a second across all chats
PER_GROUP = Limit(20, 60.0, burst=3)  # 20 messages a minute in one group (edits included)


def limiter(overall: Limit = OVERALL, group: Limit = PER_GROUP) -> AIORateLimiter:
    """The limiter for the application's bot: every request of a chat, groups also per group."""
    overall_rate, overall_period = overall.bucket()
    group_rate, group_period = group.bucket()
    return AIORateLimiter(overall_max_rate=overall_rate, overall_time_period=overall_period,
                          group_max_rate=group_rate, group_time_period=group_period,
                          max_retries=RETRIES)
