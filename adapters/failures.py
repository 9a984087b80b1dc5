"""What a failed turn or command tells the user: silence, the error's own text, or an apology."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

from core.errors import UNEXPECTED, DuplicateTurn, RateLimited, SwitchboardError

log = logging.getLogger("switchboard.failures")


@dataclass(frozen=True, slots=True)
class Notice:
    """The user-facing side of a failure; an empty `text` means say nothing."""

    text: str
    private: bool = False  # only the user should see it, where the platform allows that
    request_id: str | None = None  # set for a bug: the operator finds it in the log

    @property
    def silent(self) -> bool:
        return not self.text


def request_id() -> str:
    """A short id to quote to the operator; unique enough to find one log line."""
    return secrets.token_hex(4)


def apology(rid: str) -> str:
    return f"{UNEXPECTED} (ref {rid})"


def notice(exc: BaseException, *, where: str = "", rid: str | None = None) -> Notice:
    """Decide what `exc` tells the user; a bug is also logged, with its request id.

    `where` names the place for the log (a platform and a session key, never message text).
    """
    if isinstance(exc, DuplicateTurn):
        return Notice("")  # a platform redelivery: already answered
    friendly = exc.user_message if isinstance(exc, SwitchboardError) else ""
    if friendly and friendly != UNEXPECTED:
        return Notice(friendly, private=isinstance(exc, RateLimited))
    rid = rid or request_id()
    # The traceback goes to the operator only; the user gets the id to quote.
    log.exception("failed request_id=%s where=%s: %s", rid, where or "-", type(exc).__name__,
                  exc_info=exc, extra={"request_id": rid})
    return Notice(apology(rid), request_id=rid)
