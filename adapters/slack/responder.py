"""Slack messages and button presses handed to the shared answer flow, with who speaks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from slack_bolt.async_app import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from adapters import answers
from adapters.files import answered, fetch
from adapters.slack.answer import Place, Pressed
from adapters.slack.conversation import Incoming
from adapters.slack.files import described, remotes
from adapters.slack.names import Names
from adapters.slack.settings import SlackSettings
from core.attachments import Upload
from core.errors import DuplicateTurn
from core.keys import Speaker
from core.service import ChatService, Turn


class Responder:
    """Answers where the question was asked; errors become short notices, redeliveries silence."""

    def __init__(self, service: ChatService, settings: SlackSettings) -> None:
        self.service, self.settings, self.names = service, settings, Names()

    async def answer(self, client: AsyncWebClient, msg: Incoming) -> bool:
        """Answer one message; False when nothing was sent (a redelivered message).

        The user sees the answer grow: if they stop it, what they saw is kept as the answer."""
        fetched = (lambda: self.uploads(client, msg)) if msg.files else None
        turn = Turn(msg.session, await self.speaker(client, msg), msg.text, msg.turn_id)
        stream = answered(self.service, turn, fetched, keep_partial=True)
        seen = await answers.reply(self.place(client, msg), stream, question=msg.turn_id,
                                   asker=msg.user, where=f"slack channel={msg.channel} ts={msg.ts}")
        return not isinstance(seen.error, DuplicateTurn)

    async def press(self, client: AsyncWebClient, msg: Incoming, data: str,
                    message: Mapping[str, Any], respond: AsyncRespond) -> None:
        """A button under the answer `message` (in `msg`'s conversation) pressed by `msg.user`."""
        who = answers.Presser(msg.user, await self.speaker(client, msg), msg.session)
        await answers.pressed(self.service, data, who,
                              Pressed(self.place(client, msg), message, respond), where="slack")

    def place(self, client: AsyncWebClient, msg: Incoming) -> Place:
        return Place(client, self.settings, msg.target, msg.ts)

    async def uploads(self, client: AsyncWebClient, msg: Incoming) -> tuple[Upload, ...]:
        """The message's files, downloaded once the limits allow; AttachmentError otherwise."""
        limits = self.service.settings.limits
        files = await described(client, msg.files, limits)
        return await fetch(remotes(client, files, self.settings.api_url, limits.max_bytes), limits)

    async def speaker(self, client: AsyncWebClient, msg: Incoming) -> Speaker:
        name = await self.names.name(client, msg.team, msg.user)
        return msg.speaker(name, await self.names.facts(client, msg.team, msg.user))

    async def started_here(self, msg: Incoming) -> bool:
        """Whether this thread already is a conversation with the bot."""
        return bool(await self.service.history(msg.session, limit=1))
