"""Approve and Deny under a Discord answer that asks to run a write tool.

Each is a `DynamicItem` whose `custom_id` is `adapters.confirm`'s press data, so a press
works after a restart; the core checks that the presser asked, in time, once.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import discord
from discord.ui import Button, DynamicItem, View

from adapters import confirm
from core.agent import Confirmation

Pressed = Callable[[discord.Interaction, str, bool], Awaitable[None]]
Item = DynamicItem[Button[View]]


def button_class(pressed: Pressed) -> type[Item]:
    """The buttons' class, bound to one bot's `pressed` (each client registers its own)."""

    class Confirm(DynamicItem[Button[View]], template=re.compile(confirm.PATTERN)):
        def __init__(self, data: str) -> None:
            approve = data.startswith(confirm.press_data("", True))
            super().__init__(Button(label=confirm.APPROVE if approve else confirm.DENY,
                                    style=discord.ButtonStyle.primary if approve
                                    else discord.ButtonStyle.secondary, custom_id=data))

        @classmethod
        async def from_custom_id(cls, interaction: discord.Interaction[Any],
                                 item: discord.ui.Item[Any], match: re.Match[str], /
                                 ) -> Confirm:
            return cls(match.string)

        async def callback(self, interaction: discord.Interaction[Any]) -> None:
            press = confirm.parse_press(self.item.custom_id or "")
            if press is not None:
                await pressed(interaction, *press)

    return Confirm


def view(button: type[Item], asked: Confirmation) -> View:
    shown = View(timeout=None)
    for each in confirm.buttons(asked):
        shown.add_item(button(each.data))  # type: ignore[arg-type]
    return shown
