"""The slack-bolt app: which events and presses reach the core, and the assistant pane."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncAssistant, AsyncBoltContext, AsyncRespond
from slack_bolt.context.set_status.async_set_status import AsyncSetStatus
from slack_bolt.context.set_suggested_prompts.async_set_suggested_prompts import (
    AsyncSetSuggestedPrompts,
)
from slack_bolt.context.set_title.async_set_title import AsyncSetTitle
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from adapters import answers
from adapters.files import answered, fetch
from adapters.slack.answer import BLOCK_ID, Place, Pressed
from adapters.slack.conversation import Incoming, from_person, message_decision
from adapters.slack.delivery import quietly
from adapters.slack.files import described, remotes
from adapters.slack.names import Names
from adapters.slack.settings import SlackSettings
from adapters.slack.slash import Ack, Slash
from adapters.slack.transport import web_client
from core.attachments import Upload
from core.errors import DuplicateTurn
from core.service import ChatService, Turn

PROMPTS = ["What can you help me with?", "Summarise a text for me", "Explain a concept simply"]
Next = Callable[[], Awaitable[BoltResponse]]


def build_app(service: ChatService, settings: SlackSettings,
              app_type: Callable[..., AsyncApp] = AsyncApp) -> AsyncApp:
    """A bolt app answering DMs, mentions, threads, the assistant pane and `/switchboard`."""
    secret = settings.signing_secret.get_secret_value() if settings.signing_secret else ""
    app = app_type(client=web_client(settings), signing_secret=secret,
                   request_verification_enabled=not settings.socket_mode)
    bot = SlackBot(service, settings, Names(app.client))
    slash = Slash(service, bot.names)
    app.middleware(bot.allowlist)
    app.assistant(bot.assistant())
    app.event("app_mention")(bot.on_mention)
    app.event("message")(bot.on_message)
    app.action({"block_id": BLOCK_ID})(bot.on_press)
    app.command("/switchboard")(slash.on_command)
    app.action(re.compile(r"^switchboard_choose_(model|persona)$"))(slash.on_menu_choice)
    return app


class SlackBot:
    """Bolt listeners: each turns a payload into an `Incoming`, answered where it was asked;
    errors become short notices, redeliveries silence."""

    def __init__(self, service: ChatService, settings: SlackSettings, names: Names) -> None:
        self.service, self.settings, self.names = service, settings, names

    async def allowlist(self, context: AsyncBoltContext, next: Next) -> BoltResponse | None:
        if self.settings.allows(context.team_id, context.channel_id):
            return await next()
        return BoltResponse(status=200, body="")  # acknowledged, deliberately unanswered

    def assistant(self) -> AsyncAssistant:
        assistant = AsyncAssistant()
        assistant.thread_started(self.on_thread_started)
        assistant.user_message(self.on_assistant_message)
        return assistant

    async def on_thread_started(self, set_suggested_prompts: AsyncSetSuggestedPrompts) -> None:
        await quietly(set_suggested_prompts(prompts=PROMPTS, title="Try asking"))

    async def on_assistant_message(self, event: dict[str, Any], context: AsyncBoltContext,
                                   client: AsyncWebClient, set_status: AsyncSetStatus,
                                   set_title: AsyncSetTitle) -> None:
        if not from_person(event):
            return
        msg = Incoming.of(event, context.team_id or "", context.bot_user_id)
        await quietly(set_status("is thinking…"))
        if not await self.started_here(msg):
            await quietly(set_title(msg.text[:80] or "New chat"))
        if not await self.answer(client, msg):
            await quietly(set_status(""))  # a redelivery: clear the status nobody will clear

    async def on_mention(self, event: dict[str, Any], context: AsyncBoltContext,
                         client: AsyncWebClient) -> None:
        if from_person(event):
            await self.answer(client, Incoming.of(event, context.team_id or "",
                                                  context.bot_user_id))

    async def on_message(self, event: dict[str, Any], context: AsyncBoltContext,
                         client: AsyncWebClient) -> None:
        decision = message_decision(event, context.bot_user_id, self.settings.follow_threads)
        if decision == "ignore":
            return
        msg = Incoming.of(event, context.team_id or "", context.bot_user_id)
        if decision == "answer" or await self.started_here(msg):
            await self.answer(client, msg)

    async def on_press(self, ack: Ack, body: dict[str, Any], action: dict[str, Any],
                       client: AsyncWebClient, respond: AsyncRespond) -> None:
        """Any button under an answer: Regenerate, Approve or Deny."""
        await ack()  # at once: the core's checks and the answer take longer than Slack's 3 s
        msg = Incoming.pressed(body)
        who = answers.Presser(msg.user, msg.session,
                              lambda: self.names.speaker(msg.team, msg.user))
        press = Pressed(self.place(client, msg), body["message"], respond)
        await answers.pressed(self.service, str(action.get("value", "")), who, press,
                              where="slack")

    async def answer(self, client: AsyncWebClient, msg: Incoming) -> bool:
        """Answer one message; False when nothing was sent (a redelivered message).

        The user sees the answer grow: if they stop it, what they saw is kept as the answer."""
        fetched = (lambda: self.uploads(client, msg)) if msg.files else None
        turn = Turn(msg.session, await self.names.speaker(msg.team, msg.user), msg.text,
                    msg.turn_id)
        stream = answered(self.service, turn, fetched, keep_partial=True)
        seen = await answers.reply(self.place(client, msg), stream, question=msg.turn_id,
                                   asker=msg.user, where=f"slack channel={msg.channel} ts={msg.ts}")
        return not isinstance(seen.error, DuplicateTurn)

    def place(self, client: AsyncWebClient, msg: Incoming) -> Place:
        return Place(client, self.settings, msg.target, msg.ts)

    async def uploads(self, client: AsyncWebClient, msg: Incoming) -> tuple[Upload, ...]:
        """The message's files, downloaded once the limits allow; AttachmentError otherwise."""
        limits = self.service.settings.limits
        files = await described(client, msg.files, limits)
        return await fetch(remotes(client, files, self.settings.api_url, limits.max_bytes), limits)

    async def started_here(self, msg: Incoming) -> bool:
        """Whether this thread already is a conversation with the bot."""
        return bool(await self.service.history(msg.session, limit=1))
