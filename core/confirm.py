"""Write tools wait for the user's word: the pending call, kept with the answer that asks.

The pending call is part of that answer's stored tool record (`name {args} (needs
confirmation ID)`): it is written by the turn's one commit and read by the confirming turn's
one open, so both stay two round trips, on every store. It is scoped to its conversation,
expires `TTL` seconds after it was asked (its id starts with that time), and is single-use:
the confirming turn's id is `cf:ID`, which the store answers once (a second press is a
`DuplicateTurn`). Only while it is the conversation's last answer can it be confirmed.
The arguments come from the model: untrusted text, shown to the user only as a clipped
`summary`, and never put in the system role.
"""

from __future__ import annotations

import json
import re
import secrets
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from core.errors import NotYourConfirmation, UnknownConfirmation
from core.keys import Speaker, UserKey
from core.messages import StoredMessage

TTL = 600.0  # seconds a confirmation may be answered after it was asked
ARGS_CHARS = 1000  # a pending call's arguments are kept whole, or the call is refused
SUMMARY_CHARS = 120
VALUE_CHARS = 40
MARK = "needs confirmation"
ID = re.compile(r"[0-9a-f]{18}")
_PENDING = re.compile(r"(?P<name>\S+) (?P<args>\{.*\}) \(needs confirmation (?P<id>[0-9a-f]{18})\)",
                      re.DOTALL)
DENIED = "Not run: the user declined. Do not run it again unless they ask; say it was not done."
TOO_LONG = "Not run: its arguments are too long to show the user for confirmation."


@dataclass(frozen=True, slots=True)
class Pending:
    """A write call the model asked for: its confirmation `id`, tool `name` and arguments."""

    id: str
    name: str
    args: dict[str, Any]

    @property
    def summary(self) -> str:
        return summary(self.name, self.args)

    @property
    def record(self) -> str:
        """The answer's tool record entry that keeps it (whole arguments, not clipped)."""
        return f"{self.name} {encode(self.args)} ({MARK} {self.id})"


@dataclass(slots=True)
class Answer:
    """The user's answer to confirmation `id`; `pending` is filled once the turn has found it."""

    id: str
    approve: bool
    pending: Pending | None = None


def new_id(now: float) -> str:
    """An id that says when it was asked (8 hex digits of seconds) and cannot be guessed."""
    return f"{int(now):08x}{secrets.token_hex(5)}"


def encode(args: Mapping[str, Any]) -> str:
    return json.dumps(args, ensure_ascii=False, default=str, sort_keys=True)


def asked(name: str, args: Mapping[str, Any], now: float) -> Pending | None:
    """The pending call for a write tool call; None when its arguments are too long to keep."""
    if len(encode(args)) > ARGS_CHARS:
        return None
    return Pending(new_id(now), name, dict(args))


def _plain(text: str, limit: int) -> str:
    """One line of printable text, clipped: no control, format or line-breaking characters."""
    kept = "".join(c if unicodedata.category(c)[0] not in "CZ" or c == " " else " " for c in text)
    kept = " ".join(kept.split())
    return kept if len(kept) <= limit else kept[:limit - 1] + "…"


def _value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False,
                                                           default=str)


def summary(name: str, args: Mapping[str, Any]) -> str:
    """`delete_note(id=7)`: short, one line, safe to show as plain text on any platform."""
    tool = name.split("__", 1)[-1]
    shown = ", ".join(f"{_plain(str(k), VALUE_CHARS)}="
                      f"{_plain(_value(v), VALUE_CHARS)}"
                      for k, v in args.items())
    return _plain(f"{tool}({shown})", SUMMARY_CHARS)


def question(summary: str) -> str:
    """The line that ends an answer waiting for confirmation."""
    return f"This needs your confirmation first: {summary}. Approve or deny it."


def said(pending: Pending, approve: bool, speaker: Speaker, now: float) -> StoredMessage:
    """The user's side of the confirming turn, as stored and shown to the model."""
    text = (f"Approved: run {pending.summary}." if approve
            else f"Denied: do not run {pending.summary}.")
    return StoredMessage("human", text, int(now), speaker.display_name, str(speaker.user))


def cut_short(name: str) -> str:
    """An answer that stopped after an approved tool ran: kept, so it is not run twice."""
    return f"(Ran {name.split('__', 1)[-1]}; the answer was cut short.)"


def parse(entry: str) -> Pending | None:
    """The pending call a tool record entry keeps, if it is one."""
    match = _PENDING.fullmatch(entry)
    if match is None:
        return None
    try:
        args = json.loads(match["args"])
    except ValueError:
        return None
    return Pending(match["id"], match["name"], args) if isinstance(args, dict) else None


def waiting(message: StoredMessage, now: float, ttl: float = TTL) -> Pending | None:
    """The call an answer still waits to have confirmed (if it is the last answer)."""
    found = [p for p in map(parse, message.tools) if p is not None]
    return found[0] if found and now - int(found[0].id[:8], 16) <= ttl else None


def find(messages: Sequence[StoredMessage], confirmation: str, user: UserKey, now: float,
         ttl: float = TTL) -> Pending:
    """The pending call `confirmation` names in the last answer, for its asker only.

    UnknownConfirmation if it is malformed, expired or not in the last answer (a turn came
    since); NotYourConfirmation if `user` did not ask that turn."""
    if not ID.fullmatch(confirmation) or now - int(confirmation[:8], 16) > ttl:
        raise UnknownConfirmation()
    if len(messages) < 2 or messages[-1].role != "ai" or messages[-2].role != "human":
        raise UnknownConfirmation()
    found = [p for p in map(parse, messages[-1].tools) if p is not None and p.id == confirmation]
    if not found:
        raise UnknownConfirmation()
    if messages[-2].user != str(user):
        raise NotYourConfirmation()
    return found[0]
