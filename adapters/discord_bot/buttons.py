"""The buttons under a Discord answer (Regenerate, or Approve and Deny), and their presses.

Each is a `DynamicItem` whose `custom_id` is the shared button's data, which carries all a press
needs: a button works after a restart, and any press goes to `adapters.answers.pressed`.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import discord
from discord.ui import Button, DynamicItem, View

from adapters import confirm, regenerate

Pressed = Callable[[discord.Interaction, str], Awaitable[None]]
Answered = DynamicItem[Button[View]]
DATA = re.compile(f"{regenerate.PATTERN}|{confirm.PATTERN}")


def button_class(pressed: Pressed) -> type[Answered]:
    """The buttons' class, bound to one bot's `pressed` (each client registers its own)."""

    class Answer(DynamicItem[Button[View]], template=DATA):
        @classmethod
        async def from_custom_id(cls, interaction: discord.Interaction[Any],
                                 item: discord.ui.Item[Any], match: re.Match[str], /
                                 ) -> Answer:
            return cls(Button(custom_id=match.string))  # a press needs only its data

        async def callback(self, interaction: discord.Interaction[Any]) -> None:
            await pressed(interaction, self.item.custom_id or "")

    return Answer


def view(button: type[Answered], buttons: Sequence[confirm.Button]) -> View:
    shown = View(timeout=None)
    for each in buttons:
        style = discord.ButtonStyle.primary if each.primary else discord.ButtonStyle.secondary
        shown.add_item(button(Button(label=each.label, custom_id=each.data, style=style)))
    return shown
