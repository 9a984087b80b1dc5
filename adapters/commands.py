"""Reset, forget and help as every chat platform offers them: names, texts and outcomes.

Slack and Discord answer their commands from here; Telegram's handlers carry the same texts
and can adopt this module as it is (its `/forget yes` confirmation stays its own).
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Literal

from adapters.failures import notice
from core.keys import SessionKey, UserKey
from core.presets import Option
from core.service import ChatService
from core.usage import Period


@dataclass(frozen=True, slots=True)
class Command:
    """One command as a platform's command menu lists it."""

    name: str
    description: str


COMMANDS = (Command(name="reset", description="Start the conversation here over"),
            Command(name="forget", description="Erase everything the bot keeps about you"),
            Command(name="model", description="Show or choose the model for this conversation"),
            Command(name="persona", description="Show or choose the bot's persona here"),
            Command(name="help", description="How to talk to the bot"))
Kind = Literal["model", "persona"]
RESET_DONE = "Started a fresh conversation."
REGENERATE = "Regenerate"  # the button under a finished answer, on every chat platform
REGENERATE_NOT_YOURS = "Only the person who asked can regenerate this answer."
FORGET_HELP = "erases everything I keep about you"


def press_id() -> str:
    """A Regenerate button's own id (six base32 characters, 30 bits), made with the button:
    one button pressed twice is one press, a new button is a new one."""
    return base64.b32encode(secrets.token_bytes(5)).decode().lower()[:6]


def plural(count: int, noun: str) -> str:
    """`1 conversation`, `2 conversations`, `0 conversations`."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def forgotten(count: int) -> str:
    """What `forget` says once `count` conversations are erased."""
    return f"Done: I erased everything I kept about you ({plural(count, 'conversation')})."


async def reset(service: ChatService, session: SessionKey, user: UserKey) -> str:
    """Start `session` over for `user`."""
    await service.reset(session, user)
    return RESET_DONE


async def forget(service: ChatService, user: UserKey) -> str:
    """Erase every conversation and key of `user`."""
    return forgotten(await service.forget(user))


def options(service: ChatService, session: SessionKey, kind: Kind) -> list[Option]:
    """What this conversation may choose for `kind`, as a menu lists it."""
    menu = service.menu(session)
    return list(menu.models if kind == "model" else menu.personas)


async def current(service: ChatService, session: SessionKey, kind: Kind,
                  how: str = "") -> str:
    """`/model` or `/persona` alone: what is chosen here, and what else may be; `how` is the
    platform's way to choose (default `/model NAME`)."""
    choice = await service.choice(session)
    now = choice.model if kind == "model" else choice.persona
    listed = "\n".join(f"• {o.name}: {o.description}" if o.description else f"• {o.name}"
                       for o in options(service, session, kind))
    return f"This conversation's {kind} is {now}. To change it, send {how or f'/{kind} NAME'} " \
           f"with one of:\n{listed}"


async def choose(service: ChatService, session: SessionKey, kind: Kind, name: str) -> str:
    """`/model NAME` or `/persona NAME`: keep it with this conversation."""
    name = name.strip()
    if kind == "model":
        await service.choose(session, model=name)
    else:
        await service.choose(session, persona=name)
    return f"From now on this conversation uses the {kind} {name}."


def _period(period: Period) -> str:
    """`Today: 1,234 of 200,000 tokens (resets at 00:00 UTC).`"""
    at = period.resets_at
    span, reset = (("Today", f"at {at:%H:%M} UTC") if period.name == "day" else
                   ("This month", f"on {at:%B} {at.day} at 00:00 UTC"))
    limit = f" of {period.limit:,}" if period.limit is not None else ""
    return f"{span}: {period.tokens:,}{limit} tokens (resets {reset})."


async def usage(service: ChatService, user: UserKey) -> str:
    """`/usage`: the model tokens `user` used today and this month, against their budget."""
    used = await service.usage(user)
    return f"{_period(used.day)}\n{_period(used.month)}"


async def outcome(work: Awaitable[str], *, where: str) -> str:
    """The command's own answer, or what `adapters.failures` tells the user went wrong."""
    try:
        return await work
    except Exception as exc:
        return notice(exc, where=where).text
