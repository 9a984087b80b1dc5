"""Approve / Deny for a write tool on any chat platform: labels, press data, and the press.

A platform shows `buttons(asked)` under the answer that ended with an `agent.Confirmation`
and, when one is pressed, calls `confirmed` with the conversation of that message and the
presser as `speaker`; the core checks that the presser is the asker, that it is in time and
that it is answered once.
"""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator
from dataclasses import dataclass

from adapters.pager import Piece
from core.agent import Confirmation
from core.errors import DuplicateTurn, NotYourConfirmation, UnknownConfirmation
from core.keys import SessionKey, Speaker
from core.service import ChatService

APPROVE = "Approve"
DENY = "Deny"
PREFIX = "cf"  # press data: `cf:y:<id>` or `cf:n:<id>`, 23 ASCII characters
PATTERN = r"^cf:([yn]):([0-9a-f]{18})$"  # for a platform's handler table
_DATA = re.compile(PATTERN)


@dataclass(frozen=True, slots=True)
class Button:
    """One button under an answer: its `label`, the `data` it sends back (callback data,
    custom id, action value), and whether it is the primary choice (a platform may style it)."""

    label: str
    data: str
    primary: bool = False


@dataclass(frozen=True, slots=True)
class Pressed:
    """A press: its `answer`, to stream like any answer (iterate it to the end or `aclose`
    it: it holds the conversation), or None and a `refusal` to show the presser alone
    (ephemeral, or a callback alert); an empty refusal says nothing (answered already)."""

    answer: AsyncGenerator[Piece, None] | None
    refusal: str = ""


def press_data(confirmation: str, approve: bool) -> str:
    return f"{PREFIX}:{'y' if approve else 'n'}:{confirmation}"


def parse_press(data: str) -> tuple[str, bool] | None:
    """(confirmation id, approve) from a button's data; None if it is not ours or malformed."""
    match = _DATA.fullmatch(data)
    return (match[2], match[1] == "y") if match else None


def buttons(asked: Confirmation) -> tuple[Button, Button]:
    return (Button(APPROVE, press_data(asked.id, True), True),
            Button(DENY, press_data(asked.id, False), False))


def question(asked: Confirmation) -> str:
    """Plain text to show with the buttons (the summary is the model's words: never markup)."""
    return f"Run {asked.summary}?"


def answered(approve: bool, name: str) -> str:
    """What replaces the buttons once pressed."""
    return f"{'Approved' if approve else 'Denied'} by {name}."


async def confirmed(service: ChatService, session: SessionKey, speaker: Speaker,
                    confirmation: str, approve: bool, press: str) -> Pressed:
    """Answer a press; the refusals (expired, not the asker's, answered already) come back
    before anything is streamed, so the platform knows whether to start an answer at all.
    Other failures (rate limit, budget, model) raise as any turn's do: show `notice(exc)`."""
    stream = service.confirm(session, speaker, confirmation, approve, press)
    try:
        first = await anext(stream)
    except StopAsyncIteration:
        return Pressed(_rest(None, stream))
    except (UnknownConfirmation, NotYourConfirmation) as exc:
        return Pressed(None, exc.user_message)
    except DuplicateTurn:
        return Pressed(None)
    return Pressed(_rest(first, stream))


async def _rest(first: Piece | None, stream: AsyncGenerator[Piece, None]
                ) -> AsyncGenerator[Piece, None]:
    try:
        if first is not None:
            yield first
        async for piece in stream:
            yield piece
    finally:
        await stream.aclose()
