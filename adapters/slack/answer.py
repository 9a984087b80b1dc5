"""A Slack answer as the shared flow (`adapters.answers`) sees it: where it shows, its buttons,
and a press of one of them.

Buttons go under the answer's last message, rewritten with `chat.update` as a `markdown` block
(Slack takes `markdown_text` or `blocks`, never both) and an actions block; the same for a
native stream's last message once it stopped, so both ways share one (see README). Every answer
button sits in the block `BLOCK_ID`, so one bolt handler takes them all.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncGenerator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from slack_bolt.async_app import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.answers import Button, Last
from adapters.failures import Notice
from adapters.pager import Piece
from adapters.slack.conversation import assistant_status
from adapters.slack.delivery import deliver, quietly, tell
from adapters.slack.reply import Target, sink
from adapters.slack.settings import SlackSettings

log = logging.getLogger("switchboard.slack")
# Named before Approve and Deny were: kept, so the buttons already posted reach the handler.
BLOCK_ID = "regenerate"
Blocks = list[dict[str, Any]]


def actions(buttons: Sequence[Button]) -> dict[str, Any]:
    """The actions block of an answer's buttons (an action id is unique within its block)."""
    return {"type": "actions", "block_id": BLOCK_ID, "elements": [
        {"type": "button", "action_id": f"switchboard_answer_{index}", "value": button.data,
         "text": {"type": "plain_text", "text": button.label}}
        for index, button in enumerate(buttons)]}


@dataclass(frozen=True, slots=True)
class Place:
    """Where one answer shows (a `Surface`)."""

    client: AsyncWebClient
    settings: SlackSettings
    target: Target
    ts: str  # the message it answers (or the pressed one): the pane's status goes with it
    private: bool = False  # every notice for `target.user` alone (a press's: nobody else asked)

    async def show(self, pieces: AsyncGenerator[Piece, None], /) -> Last | None:
        shown = sink(self.client, self.target, self.settings)
        await deliver(self._statused(pieces), shown,
                      f"slack channel={self.target.channel} thread={self.target.thread_ts}")
        return shown.last_message()

    async def say(self, said: Notice, /) -> None:
        await tell(self.client, self.target, replace(said, private=said.private or self.private))

    async def mark(self, last: Last, buttons: Sequence[Button], /) -> None:
        ts, part = last
        await update(self.client, self.target.channel, str(ts), str(part),
                     [{"type": "markdown", "text": part}, actions(buttons)])

    async def _statused(self, pieces: AsyncGenerator[Piece, None]
                        ) -> AsyncGenerator[Piece, None]:
        """The stream, with each tool's progress as the assistant pane's status."""
        async with contextlib.aclosing(pieces):
            async for piece in pieces:
                if not isinstance(piece, str):
                    await quietly(self.client.assistant_threads_setStatus(
                        channel_id=self.target.channel, thread_ts=self.target.thread_ts or self.ts,
                        status=assistant_status(piece)))
                yield piece


@dataclass(slots=True)
class Pressed:
    """One press of a button under an answer (a `Pressing`), its message as the payload shows
    it; `place` is where that answer is, for the presser."""

    place: Place
    message: Mapping[str, Any]
    respond: AsyncRespond
    keep_partial: bool = True  # Slack's stop button: what the user saw stays the answer

    async def alert(self, text: str, /) -> None:
        if text:  # bolt acknowledged the press already
            await self.respond(text=text, response_type="ephemeral", replace_original=False)

    async def ack(self) -> None:
        """Nothing more: bolt acknowledged the press before the core was asked (3 s)."""

    async def unmark(self) -> None:
        kept = [b for b in self.message.get("blocks") or [] if b.get("type") != "actions"]
        await update(self.place.client, self.place.target.channel, str(self.message["ts"]),
                     str(self.message.get("text", "")), kept)

    def turn_id(self, target: str) -> str:
        return target  # a Slack Regenerate button carries its question's turn id itself

    def surface(self, question: str | None, /) -> Place:
        return replace(self.place, private=question is not None)  # regenerated: told privately


async def update(client: AsyncWebClient, channel: str, ts: str, text: str,
                 shown: Blocks) -> None:
    """Change a message's buttons; without them, it is still an answer."""
    try:
        # `text` is the notification's fallback; the blocks are what is shown.
        await client.chat_update(channel=channel, ts=ts, text=text, blocks=shown)
    except SlackApiError as exc:
        log.info("buttons not changed: %s", exc.response.get("error"))
