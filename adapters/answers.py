"""An answer and the buttons under it, the same on every chat platform: shown, offered, pressed.

A platform gives a `Surface` (where one answer shows, how a notice is said there, how buttons
go on one of its messages) and, for a press, a `Pressing` (how the presser is told, how the
pressed message loses its buttons, where the new answer goes). The flows are here once:
- a finished answer gets Approve and Deny when it asks to run a write tool, else Regenerate
  when it answers a message; a failed one gets none (nothing was stored);
- a Regenerate press from anyone but the asker is refused at once; the asker's is answered as a
  new answer, and the pressed one loses its button once replaced (or never replaceable again);
- Approve and Deny are checked by the core (the presser asked, in time, once): a refusal goes to
  the presser alone, a second press says nothing. The check gets `ANSWER_PRESS_WITHIN`
  seconds; past that the press is acknowledged first and the outcome follows.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from adapters import confirm, regenerate
from adapters.confirm import Button
from adapters.failures import Notice, notice
from adapters.pager import Piece, Watched
from adapters.regenerate import Press
from core.keys import SessionKey, Speaker
from core.service import ChatService

__all__ = ["Button", "Presser", "Pressing", "Surface", "offers", "pressed", "reply", "within"]
Last = tuple[Any, Any]  # a platform's last message of an answer: its handle and what it shows
# A platform shows a press as pending until it is acknowledged, and Telegram forgets one left
# unanswered for a few seconds: the core's check (a slow Redis, a full waiting line) gets this.
ANSWER_PRESS_WITHIN = 2.0
T = TypeVar("T")


class Surface(Protocol):
    """Where one answer goes on a platform."""

    async def show(self, pieces: AsyncGenerator[Piece, None], /) -> Last | None:
        """Show the answer as it grows; return its last message, or raise what ended it."""
        ...

    async def say(self, said: Notice, /) -> None:
        """Tell why there is no (whole) answer; `said.private` where the platform allows it."""
        ...

    async def mark(self, last: Last, buttons: Sequence[Button], /) -> None:
        """Put buttons under the answer's last message (cosmetic: a refusal is only logged)."""
        ...


class Pressing(Protocol):
    """One press of a button under an answer, as its platform delivered it."""

    keep_partial: bool  # whether an answer the user stops is kept (Slack's stop button)

    async def alert(self, text: str, /) -> None:
        """Answer the press with `text` for the presser alone ('' only acknowledges it); it
        may follow `ack` (a slow check), so the platform tells them some other way then."""
        ...

    async def ack(self) -> None:
        """Acknowledge the press; the answer it asked for follows."""
        ...

    async def unmark(self) -> None:
        """Take the buttons off the pressed message."""
        ...

    def turn_id(self, target: str) -> str:
        """The turn id of the question a Regenerate button names (as the platform made it)."""
        ...

    def surface(self, question: str | None, /) -> Surface:
        """Where the press's answer goes (`question`: the message it answers again, if any)."""
        ...


@dataclass(frozen=True, slots=True)
class Presser:
    """Who pressed: their platform id (as a `Press` names its asker), the pressed message's
    conversation, and who they are to the core there: asked only once a press needs it, so a
    stranger's press is refused without a lookup."""

    id: str
    session: SessionKey
    speaker: Callable[[], Awaitable[Speaker]]

    @classmethod
    def known(cls, id: str, session: SessionKey, speaker: Speaker) -> Presser:
        """A presser whose platform told who they are with the press (nothing to look up)."""
        async def ready() -> Speaker:
            return speaker
        return cls(id, session, ready)


def offers(watched: Watched, question: str | None, asker: str) -> tuple[Button, ...]:
    """The buttons a finished answer gets: Approve and Deny when it asks to run a write tool,
    else Regenerate for an answer to message `question` (a confirmed tool's answer is none)."""
    if watched.asked is not None:
        return confirm.buttons(watched.asked)
    if question is None:
        return ()
    return (Button(regenerate.LABEL, Press.fresh(question, asker).data, False),)


async def reply(surface: Surface, stream: AsyncGenerator[Piece, None], *,
                question: str | None, asker: str, where: str) -> Watched:
    """Show one answer; a failure ends it with its notice (silent for a redelivery), a finished
    one gets its buttons. `where` names the turn in the log (never its text)."""
    watched = Watched(stream)
    try:
        async with contextlib.aclosing(watched.pieces()) as pieces:
            last = await surface.show(pieces)
    except Exception as exc:  # the stream is closed first: the conversation is free again
        said = notice(exc, where=where)
        if not said.silent:
            await surface.say(said)
        return watched
    buttons = offers(watched, question, asker) if watched.done else ()
    if buttons and last is not None:
        await surface.mark(last, buttons)
    return watched


async def pressed(service: ChatService, data: str, who: Presser, press: Pressing, *,
                  where: str) -> Watched | None:
    """Answer a press of one of `offers`' buttons (`data`: what it carried); None when
    nothing was answered. `where` names the platform in the log."""
    again = Press.parse(data)
    if again is not None:
        return await _regenerate(service, again, who, press, where)
    asked = confirm.parse_press(data)
    if asked is not None:
        return await _confirm(service, asked, who, press, where)
    await press.alert("")  # not ours (or malformed): only acknowledged
    return None


async def _regenerate(service: ChatService, again: Press, who: Presser, press: Pressing,
                      where: str) -> Watched | None:
    if again.asker != who.id:
        await press.alert(regenerate.NOT_YOURS)
        return None
    await press.ack()  # at once: the platform shows the press as pending until then
    stream = service.regenerate(who.session, await who.speaker(), press.turn_id(again.target),
                                again.nonce, keep_partial=press.keep_partial)
    watched = await reply(press.surface(again.target), stream, question=again.target,
                          asker=who.id, where=f"{where} regenerate session={who.session}")
    if regenerate.retire(watched):
        await press.unmark()
    return watched


async def _confirm(service: ChatService, asked: tuple[str, bool], who: Presser,
                   press: Pressing, where: str) -> Watched | None:
    confirmation, approve = asked
    try:
        acked, answer = await within(_check(service, who, confirmation, approve), press)
    except Exception as exc:  # the turn could not start (rate limit, budget, a full line)
        said = notice(exc, where=f"{where} confirm session={who.session}")
        await press.alert("" if said.silent else said.text)
        return None
    if answer.answer is None:  # not theirs, expired (told), or answered already (silent)
        await press.alert(answer.refusal)
        return None
    async with contextlib.aclosing(answer.answer) as stream:  # closed if the platform fails
        if not acked:
            await press.ack()
        await press.unmark()
        return await reply(press.surface(None), stream, question=None, asker=who.id,
                           where=f"{where} confirm session={who.session}")


async def _check(service: ChatService, who: Presser, confirmation: str,
                 approve: bool) -> confirm.Pressed:
    return await confirm.confirmed(service, who.session, await who.speaker(), confirmation,
                                   approve, f"{who.id}:{confirmation}")


async def within(check: Coroutine[Any, Any, T], press: Pressing) -> tuple[bool, T]:
    """`check`'s outcome, and whether the press was acknowledged while waiting for it (when it
    took longer than `ANSWER_PRESS_WITHIN`)."""
    task = asyncio.ensure_future(check)
    try:
        done, _ = await asyncio.wait({task}, timeout=ANSWER_PRESS_WITHIN)
        if not done:
            await press.ack()
        return not done, await task
    except BaseException:  # cancelled (shutting down) or the platform failed: stop the check
        task.cancel()
        raise
