"""The "Regenerate" button under a finished Discord answer: the asker's press answers again.

The button is a `DynamicItem` whose `custom_id` is the shared `adapters.regenerate.Press`:
it carries all a press needs, so it works after a restart.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

import discord
from discord.ui import Button, DynamicItem, View

from adapters import regenerate
from adapters.discord_bot.reply import NO_PINGS
from adapters.regenerate import Press

log = logging.getLogger("switchboard.discord")
Pressed = Callable[[discord.Interaction, Press], Awaitable[None]]
Item = DynamicItem[Button[View]]


def button_class(pressed: Pressed) -> type[Item]:
    """The button's class, bound to one bot's `pressed` (each client registers its own)."""

    class Regenerate(DynamicItem[Button[View]], template=re.compile(regenerate.PATTERN)):
        def __init__(self, press: Press) -> None:
            super().__init__(Button(label=regenerate.LABEL, style=discord.ButtonStyle.secondary,
                                    custom_id=press.data))
            self.press = press

        @classmethod
        async def from_custom_id(cls, interaction: discord.Interaction[Any],
                                 item: discord.ui.Item[Any], match: re.Match[str], /
                                 ) -> Regenerate:
            press = Press.parse(match.string)
            assert press is not None  # the template matched
            return cls(press)

        async def callback(self, interaction: discord.Interaction[Any]) -> None:
            await pressed(interaction, self.press)

    return Regenerate


def view(button: type[Item], target: int, asker: int) -> View:
    shown = View(timeout=None)
    shown.add_item(button(Press.fresh(target, asker)))  # type: ignore[arg-type]
    return shown


async def offer(message: discord.Message, buttons: View) -> None:
    """Put buttons under an answer's last message; without them, it's still an answer."""
    await _edit(message, buttons)


async def unoffer(message: discord.Message | None) -> None:
    """Take the buttons off a pressed answer: replaced, answered, or never again the last."""
    if message is not None:
        await _edit(message, None)


async def _edit(message: discord.Message, view: View | None) -> None:
    try:
        await message.edit(view=view, allowed_mentions=NO_PINGS)
    except discord.HTTPException as exc:
        log.info("discord: buttons not changed: status=%s", exc.status)
