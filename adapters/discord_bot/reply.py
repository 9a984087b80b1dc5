"""One answer in a Discord channel: Discord Markdown paged into messages of at most 2,000, and
the buttons under it (Regenerate, or Approve and Deny).

A button is a `DynamicItem` whose `custom_id` is the shared button's data, which carries all a
press needs: it works after a restart, and its press is the client's `answer_press` event.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import AsyncGenerator, Sequence
from typing import Any

import discord
from discord.ui import DynamicItem, View

from adapters import confirm, regenerate, render
from adapters.answers import Button, Last
from adapters.discord_bot.settings import MESSAGE_LIMIT
from adapters.failures import Notice
from adapters.pager import Pager, Piece, Say
from adapters.paging import Pace, Rendered, plain

log = logging.getLogger("switchboard.discord")
# Model output is untrusted: it must never ping @everyone, roles, users or the replied-to author.
NO_PINGS = discord.AllowedMentions.none()


class Channel:
    """Where one answer goes: a channel, its first message replying to `question` (in guilds);
    a notice goes with `tell` if given (to a presser alone), else there too."""

    def __init__(self, channel: discord.abc.Messageable,
                 question: discord.MessageReference | None, interval: float,
                 tell: Say | None = None) -> None:
        self.channel, self.question, self.interval, self.tell = channel, question, interval, tell

    async def show(self, pieces: AsyncGenerator[Piece, None], /) -> Last | None:
        pager = Pager(self, pages, limit=MESSAGE_LIMIT, pace=Pace(self.interval),
                      busy=self._typing)
        await pager.run(pieces)
        return pager.last_message()

    async def say(self, said: Notice, /) -> None:
        await (self.tell or self.send)(said.text)

    async def mark(self, last: Last, buttons: Sequence[Button], /) -> None:
        await edit_buttons(last[0], view(buttons))

    async def send(self, part: str) -> discord.Message:
        # Only the first message is a reply; continuations and notices follow without one.
        question, self.question = self.question, None
        return await self.channel.send(part, allowed_mentions=NO_PINGS,
                                       reference=question)  # type: ignore[arg-type]

    async def edit(self, message: discord.Message, part: str) -> None:
        await message.edit(content=part, allowed_mentions=NO_PINGS)

    async def delete(self, message: discord.Message) -> None:
        with contextlib.suppress(discord.NotFound):  # already gone: what deleting wants
            await message.delete()

    async def _typing(self) -> None:
        async with self.channel.typing():  # "typing…" until the pager cancels it: shown
            await asyncio.Event().wait()


def pages(answer: str, limit: int) -> list[Rendered[str]]:
    """The answer (so far) as Discord Markdown messages, mentions inert.

    A growing answer is parsed as it stands: a half-written construct is escaped text or a
    closed block, never an empty or over-long message, so mid-stream it looks like the end.
    """
    return plain(render.discord(answer, limit))


class AnswerButton(DynamicItem[discord.ui.Button[View]],
                   template=re.compile(f"{regenerate.PATTERN}|{confirm.PATTERN}")):
    """Any button under an answer, as Discord sends its press back."""

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any],
                             item: discord.ui.Item[Any], match: re.Match[str], /
                             ) -> AnswerButton:
        return cls(discord.ui.Button(custom_id=match.string))  # a press needs only its data

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        interaction.client.dispatch("answer_press", interaction, self.item.custom_id or "")


def view(buttons: Sequence[Button]) -> View:
    shown = View(timeout=None)
    for each in buttons:
        style = discord.ButtonStyle.primary if each.primary else discord.ButtonStyle.secondary
        shown.add_item(AnswerButton(discord.ui.Button(label=each.label, custom_id=each.data,
                                                      style=style)))
    return shown


async def edit_buttons(message: discord.Message | None, buttons: View | None) -> None:
    """Put buttons under an answer, or take them off; without them, it's still an answer."""
    try:
        if message is not None:
            await message.edit(view=buttons, allowed_mentions=NO_PINGS)
    except discord.HTTPException as exc:
        log.info("discord: buttons not changed: status=%s", exc.status)
