"""The `HistoryStore` seam: what the core asks of any conversation store."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from core.keys import LinkCheck, Scope, SessionKey, UserKey
from core.messages import StoredMessage
from core.settings import Rate
from core.totals import Totals
from core.usage import Budget, Usage


@dataclass(frozen=True, slots=True)
class Choice:
    """A conversation's model preset and persona, by name; `default` unless someone chose."""

    model: str = "default"
    persona: str = "default"


@dataclass(frozen=True, slots=True)
class Loaded:
    """What one turn reads: the recent messages, the rolling summary and the lock it holds."""

    messages: list[StoredMessage]  # the most recent ones, oldest first
    total: int  # messages ever appended to the conversation
    summary: str
    summarized: int  # how many of the oldest messages the summary already covers
    lock_token: str
    files: dict[str, str] = field(default_factory=dict)  # image id -> "mime;base64"
    choice: Choice = Choice()
    last_turn: str = ""  # the turn whose answer is last: the one `regenerate` may replace


@dataclass(frozen=True, slots=True)
class TurnWrite:
    """What one successful turn writes, atomically and at most once per `turn_id`."""

    turn_id: str
    messages: tuple[StoredMessage, ...]
    summary: str | None = None  # new rolling summary, when older turns were folded
    summarized: int = 0
    files: tuple[tuple[str, str], ...] = ()  # new images: (id, "mime;base64")
    tokens: tuple[int, int] = (0, 0)  # the turn's model calls: tokens in and out
    payer: UserKey | None = None  # whose usage the tokens count in (a linked person); None: user
    cost: int = 0  # what they cost, in billionths of the configured currency (0: unpriced)
    extra: tuple[int, int] = (0, 0)  # seconds of voice transcribed, tool calls made


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """A conversation as listed for its owner."""

    session_id: str
    title: str
    messages: int
    created: int
    updated: int
    scope: Scope = Scope.THREAD  # as the person's index lists it

    @property
    def key(self) -> SessionKey:
        """The conversation's key, rebuilt from its id (whose parts are already escaped)."""
        platform, *parts = self.session_id.split(":")
        return SessionKey(platform, self.scope, tuple(parts))


class HistoryStore(Protocol):
    """Per-conversation history, per-user rate limits and the per-conversation turn lock."""

    @property
    def lock_ms(self) -> int:
        """How long a turn lock lives unless renewed with `keep_lock`."""
        ...

    async def admit(self, user: UserKey, turn_id: str, rate: Rate, cost: int = 1,
                    budget: Budget | None = None) -> None:
        """Count a message (as `cost` messages) against its sender's rate, once per `turn_id`;
        RateLimited if over, BudgetExceeded if their tokens reached `budget`."""
        ...

    async def open_turn(self, session: SessionKey, user: UserKey, turn_id: str,
                        rate: Rate, window: int, admitted: bool = False,
                        images: int = 0, cost: int = 1, budget: Budget | None = None,
                        link: LinkCheck | None = None) -> Loaded:
        """Check the rate and budget, take the conversation's lock and read it, in one round trip.

        With `link`, the sender's link is read in that trip too: LinkChanged (the lock given
        back) when it is not the person `user` and `session` were chosen for.

        The message counts as `cost` messages (one, plus one per attached file).
        The read includes the data of up to `images` of the newest images its messages
        refer to (`Loaded.files`).

        With `admitted` the rate was already counted by `admit`. While the conversation is
        busy only the lock is retried: a message is counted once, however long it waits.
        Raises RateLimited, BudgetExceeded, DuplicateTurn (turn_id already stored) or
        ConversationBusy.
        """
        ...

    async def commit_turn(self, session: SessionKey, user: UserKey, lock_token: str,
                          write: TurnWrite) -> bool:
        """Append the turn, cap the history, refresh every TTL and release the lock; add
        `write.tokens` to the user's day and month (once per turn id, even if stored before).

        Returns False when the turn id was already stored (nothing written twice).
        """
        ...

    async def usage(self, user: UserKey, budget: Budget | None,
                    currency: str | None = None) -> Usage:
        """The user's tokens today and this month (UTC), with `budget`'s limits; costs in
        `currency` (None: nothing is priced)."""
        ...

    async def totals(self, currency: str | None = None) -> Totals:
        """Everyone's tokens and cost today and this month, per platform."""
        ...

    async def replace_answer(self, session: SessionKey, lock_token: str, turn_id: str,
                             target: str, answer: StoredMessage, user: UserKey | None = None,
                             tokens: tuple[int, int] = (0, 0), cost: int = 0) -> bool:
        """Put `answer` in place of the last one if it still answers turn `target`, once per
        `turn_id`, and release the lock; False when nothing was replaced. The `tokens` (in,
        out) it took count for `user` either way, once per `turn_id`."""
        ...

    async def keep_lock(self, session: SessionKey, lock_token: str) -> bool:
        """Extend a held lock during a long reply; False if it was lost."""
        ...

    async def release(self, session: SessionKey, lock_token: str) -> None:
        """Give the lock back without writing (the reply failed or was cancelled)."""
        ...

    async def read(self, session: SessionKey, limit: int) -> list[StoredMessage]:
        """The last `limit` stored messages, oldest first."""
        ...

    async def images(self, session: SessionKey, ids: list[str]) -> dict[str, str]:
        """The images of `ids` still kept with the conversation: id -> "mime;base64"."""
        ...

    async def reset(self, session: SessionKey, user: UserKey) -> None:
        """Forget one conversation's messages; its chosen model and persona stay."""
        ...

    async def choose(self, session: SessionKey, model: str | None, persona: str | None) -> None:
        """Keep a model preset and/or persona with the conversation (read by `open_turn`)."""
        ...

    async def choice(self, session: SessionKey) -> Choice:
        """The conversation's current model preset and persona."""
        ...

    async def info(self, session: SessionKey) -> SessionInfo | None:
        """One conversation's listing, or None when it has no stored messages."""
        ...

    async def sessions(self, user: UserKey) -> list[SessionInfo]:
        """The conversations this user has spoken in."""
        ...

    async def erase_user(self, user: UserKey) -> int:
        """Erase everything kept about one user; returns the conversations touched."""
        ...

    async def ping(self) -> None:
        """Raise StoreUnavailable when the store cannot be reached."""
        ...
