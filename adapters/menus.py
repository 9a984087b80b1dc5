"""The buttons under a command's answer, on any chat platform: a menu's choices, forget's yes
and no, and what a press of one does.

A button's data is `<command>:<argument>:<asker>`: names of at most 40 ASCII characters and
the asker as the platform writes it (Telegram: hex, so that it fits 64 bytes). In a shared
conversation anyone in it may choose from a menu (the command runner still checks who may
change it); `forget` answers only the person it asked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from adapters import commands
from adapters.commands import Allowed, Asker, Said, Style
from adapters.confirm import Button
from core.keys import SessionKey
from core.service import ChatService

PATTERN = r"^(model|persona|forget):[A-Za-z0-9_.-]{1,40}:[0-9A-Za-z]{1,20}$"
_DATA = re.compile(PATTERN)
MAX_BUTTONS = 100  # Telegram's limit for one inline keyboard; more than anyone reads
YES, CANCEL = "Yes, erase everything", "Cancel"


def _button(label: str, name: str, arg: str, asker: str, primary: bool = False) -> Button:
    return Button(label, f"{name}:{arg}:{asker}", primary)


def rows(said: Said, asker: str) -> list[list[Button]]:
    """The buttons under `said`, a row each for a menu's choices (the current one ticked),
    one row for forget's yes and no; none for any other answer."""
    if said.confirm:
        return [[_button(YES, "forget", "yes", asker, True),
                 _button(CANCEL, "forget", "no", asker)]]
    menu = said.menu
    if menu is None:
        return []
    return [[_button(f"✓ {o.name}" if o.name == menu.chosen else o.name, menu.kind, o.name,
                     asker)] for o in menu.options[:MAX_BUTTONS]]


@dataclass(frozen=True, slots=True)
class Chosen:
    """A press's outcome: an `alert` for the presser alone, or the `text` that replaces the
    pressed answer (and its buttons)."""

    alert: str = ""
    text: str = ""


async def pressed(service: ChatService, data: str, asker: Asker, presser: str,
                  session: SessionKey, style: Style, may_change: Allowed) -> Chosen:
    """Run the command a button carries, for `asker` (`presser`: their id as in the data)."""
    if not _DATA.match(data):
        return Chosen()
    name, arg, shown_to = data.split(":")
    anyone = not session.private and name != "forget"
    if not anyone and shown_to != presser:
        return Chosen(alert=commands.NOT_YOURS)
    said = await commands.run(service, name, arg, asker, session, style, may_change)
    if said.text == commands.refusal(name, style.who):
        return Chosen(alert=said.text)
    return Chosen(text=said.text)
