"""The pager's decisions as pure functions: which messages to send, edit or delete, and when.

The effects (a platform's requests, the model stream) are in `adapters.pager`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Generic, TypeVar

P = TypeVar("P")  # a part: what one message shows (a str, or e.g. Telegram text + entities)
M = TypeVar("M")  # a platform's handle of a sent message (an id, a ts, a message object)


@dataclass(frozen=True, slots=True)
class Rendered(Generic[P]):
    """One message's worth of the answer: its final form, and its form while it still grows."""

    done: P
    growing: P


def plain(parts: Iterable[P]) -> list[Rendered[P]]:
    """Parts that look the same while growing as when finished."""
    return [Rendered(done=part, growing=part) for part in parts]


Render = Callable[[str, int], Sequence[Rendered[P]]]


@dataclass(frozen=True, slots=True)
class Shown(Generic[P, M]):
    """A message the pager sent, and the part it shows now."""

    message_id: M
    part: P


@dataclass(frozen=True, slots=True)
class SentState(Generic[P, M]):
    """What the user sees: the messages in order, and when the last request went out."""

    messages: tuple[Shown[P, M], ...] = ()
    last: float = -math.inf


@dataclass(frozen=True, slots=True)
class Pace:
    """The throttle: at most `burst` requests, then none for `interval` seconds."""

    interval: float
    burst: int = 1


@dataclass(frozen=True, slots=True)
class Send(Generic[P]):
    index: int
    part: P


@dataclass(frozen=True, slots=True)
class Edit(Generic[P, M]):
    index: int
    message_id: M
    part: P


@dataclass(frozen=True, slots=True)
class Delete(Generic[M]):
    message_id: M


@dataclass(frozen=True, slots=True)
class Wait:
    """Nothing may be sent for `seconds` yet, but the final pass still has work."""

    seconds: float


Action = Send[P] | Edit[P, M] | Delete[M] | Wait


def looks(parts: Sequence[Rendered[P]], final: bool) -> list[P]:
    """What each message should show: finished parts in their final form, the last one growing."""
    last = len(parts) - 1
    return [r.done if final or i < last else r.growing for i, r in enumerate(parts)]


def due(wanted: Sequence[P], sent: SentState[P, M]) -> list[Action[P, M]]:
    """Every request that would bring the messages up to `wanted`, in the order to make them.

    Extra messages go first and earlier messages before later ones, so text moving on to the
    next message leaves the old one before it appears in the new one: never shown twice.
    """
    actions: list[Action[P, M]] = [Delete(shown.message_id)
                                   for shown in sent.messages[len(wanted):]]
    for index, part in enumerate(wanted):
        if index >= len(sent.messages):
            actions.append(Send(index, part))
        elif sent.messages[index].part != part:  # an edit that changes nothing is never made
            actions.append(Edit(index, sent.messages[index].message_id, part))
    return actions


def wait(sent: SentState[P, M], pace: Pace, now: float) -> float:
    """Seconds until the pace allows the next request (0 or less: now)."""
    return sent.last + pace.interval - now


def plan(parts: Sequence[Rendered[P]], sent: SentState[P, M], *, final: bool, now: float,
         pace: Pace) -> list[Action[P, M]]:
    """The next requests to make, within the pace; a throttled final pass says how long to wait."""
    todo = due(looks(parts, final), sent)
    if not todo:
        return []
    seconds = wait(sent, pace, now)
    if seconds > 0:
        return [Wait(seconds)] if final else []  # while streaming, the next piece tries again
    return todo[:pace.burst]


def applied(sent: SentState[P, M], action: Action[P, M], now: float,
            new_id: M | None = None) -> SentState[P, M]:
    """The state after `action` was carried out at `now` (`new_id`: what a Send returned)."""
    if isinstance(action, Wait):
        return sent
    messages = list(sent.messages)
    if isinstance(action, Delete):
        messages = [m for m in messages if m.message_id != action.message_id]
    elif isinstance(action, Edit):
        messages[action.index] = Shown(action.message_id, action.part)
    elif new_id is None:
        raise ValueError("a Send is applied with the id of the message it sent")
    else:
        messages.append(Shown(new_id, action.part))
    return replace(sent, messages=tuple(messages), last=now)
