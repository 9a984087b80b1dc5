"""Answering a Slack message or a Regenerate press where it was asked, then offering the button."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncGenerator, Mapping
from dataclasses import replace
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from adapters.confirm import confirmed
from adapters.failures import notice
from adapters.files import answered, fetch
from adapters.pager import Piece, Watched
from adapters.regenerate import Press
from adapters.slack.conversation import Incoming, assistant_status
from adapters.slack.delivery import deliver, quietly, tell
from adapters.slack.files import described, remotes
from adapters.slack.names import Names
from adapters.slack.regen import offer, unoffer
from adapters.slack.reply import sink
from adapters.slack.settings import SlackSettings
from core.attachments import Upload
from core.keys import Speaker
from core.service import ChatService, Turn

log = logging.getLogger("switchboard.slack")


class Responder:
    """Streams the core's answer to Slack; errors become short notices, redeliveries silence."""

    def __init__(self, service: ChatService, settings: SlackSettings) -> None:
        self.service, self.settings, self.names = service, settings, Names()

    async def answer(self, client: AsyncWebClient, msg: Incoming) -> bool:
        """Answer one message; False when nothing was sent (a redelivered message).

        The user sees the answer grow: if they stop it, what they saw is kept as the answer."""
        speaker = await self.speaker(client, msg)
        fetched = (lambda: self.uploads(client, msg)) if msg.files else None
        stream = answered(self.service, Turn(msg.session, speaker, msg.text, msg.turn_id),
                          fetched, keep_partial=True)
        return await self._show(client, msg, _statused(client, msg, stream),
                                msg.turn_id) is not None

    async def regenerate(self, client: AsyncWebClient, msg: Incoming, press: Press
                         ) -> Watched | None:
        """Answer `press.target`'s question again, under the pressed answer; told privately."""
        speaker = await self.speaker(client, msg)
        again = self.service.regenerate(msg.session, speaker, press.target, press.nonce,
                                        keep_partial=True)
        return await self._show(client, msg, _statused(client, msg, again), press.target,
                                private=True)

    async def confirm(self, client: AsyncWebClient, msg: Incoming, confirmation: str,
                      approve: bool, pressed_on: Mapping[str, Any]) -> str:
        """Approve or Deny a write tool: its buttons go and the answer goes on; or the refusal
        to tell the presser alone ('' for none: answered already)."""
        speaker = await self.speaker(client, msg)
        pressed = await confirmed(self.service, msg.session, speaker, confirmation, approve,
                                  msg.ts)
        if pressed.answer is None:
            return pressed.refusal
        await unoffer(client, msg.channel, pressed_on)
        await self._show(client, msg, _statused(client, msg, pressed.answer), None)
        return ""

    async def _show(self, client: AsyncWebClient, msg: Incoming,
                    stream: AsyncGenerator[Piece, None], question: str | None, *,
                    private: bool = False) -> Watched | None:
        """Deliver an answer, then offer its buttons; None when nothing was sent."""
        where = f"slack channel={msg.channel} ts={msg.ts}"
        watched, shown = Watched(stream), sink(client, msg.target, self.settings)
        try:
            await deliver(watched.pieces(), shown, where)
        except Exception as exc:
            said = notice(exc, where=where)
            if said.silent:
                log.info("redelivered message ignored %s", where)
                return None
            await tell(client, msg.target, replace(said, private=said.private or private))
        if watched.done:
            press = Press.fresh(question, msg.user) if question is not None else None
            await offer(client, msg.channel, shown, press, watched.asked)
        return watched

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


async def _statused(client: AsyncWebClient, msg: Incoming, stream: AsyncGenerator[Piece, None]
                    ) -> AsyncGenerator[Piece, None]:
    """The stream, with each tool's progress shown as the assistant pane's status."""
    async with contextlib.aclosing(stream) as pieces:
        async for piece in pieces:
            if not isinstance(piece, str):
                await quietly(client.assistant_threads_setStatus(
                    channel_id=msg.channel, thread_ts=msg.reply_thread or msg.ts,
                    status=assistant_status(piece)))
            yield piece
