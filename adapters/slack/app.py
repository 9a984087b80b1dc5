"""The slack-bolt app: which events reach the core, the assistant pane and `/switchboard`."""

from __future__ import annotations

import logging
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

from adapters import commands
from adapters.slack.conversation import (
    Incoming,
    Responder,
    command_choice,
    from_person,
    message_decision,
)
from adapters.slack.delivery import quietly
from adapters.slack.settings import SlackSettings
from adapters.slack.transport import web_client
from core.keys import SessionKey, UserKey
from core.service import ChatService

log = logging.getLogger("switchboard.slack")
PROMPTS = ["What can you help me with?", "Summarise a text for me", "Explain a concept simply"]
HELP = ("Mention me in a channel and I answer in a thread; each thread is its own conversation. "
        "In a direct message we have one running conversation. You can also send me images, "
        "voice or audio clips, PDFs and text files.\n"
        "`/switchboard reset` starts our direct-message conversation over, "
        f"`/switchboard forget` {commands.FORGET_HELP}, `/switchboard help` shows this.")
IN_CHANNEL = ("Each thread here is its own conversation: mention me in a new message to start "
              "over. `/switchboard reset` in a direct message resets that conversation.")
Next = Callable[[], Awaitable[BoltResponse]]


def build_app(service: ChatService, settings: SlackSettings) -> AsyncApp:
    """A bolt app answering DMs, mentions, threads, the assistant pane and `/switchboard`."""
    secret = settings.signing_secret.get_secret_value() if settings.signing_secret else ""
    app = AsyncApp(client=web_client(settings), signing_secret=secret,
                   request_verification_enabled=not settings.socket_mode)
    bot = SlackBot(Responder(service, settings), settings)
    app.middleware(bot.allowlist)
    app.assistant(bot.assistant())
    app.event("app_mention")(bot.on_mention)
    app.event("message")(bot.on_message)
    app.command("/switchboard")(bot.on_command)
    return app


class SlackBot:
    """Bolt listeners: each turns a payload into an `Incoming` and hands it to the responder."""

    def __init__(self, responder: Responder, settings: SlackSettings) -> None:
        self.responder, self.settings = responder, settings

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
        if not await self.responder.started_here(msg):
            await quietly(set_title(msg.text[:80] or "New chat"))
        if not await self.responder.answer(client, msg):
            await quietly(set_status(""))  # a redelivery: clear the status nobody will clear

    async def on_mention(self, event: dict[str, Any], context: AsyncBoltContext,
                         client: AsyncWebClient) -> None:
        if from_person(event):
            await self.responder.answer(client, Incoming.of(event, context.team_id or "",
                                                            context.bot_user_id))

    async def on_message(self, event: dict[str, Any], context: AsyncBoltContext,
                         client: AsyncWebClient) -> None:
        decision = message_decision(event, context.bot_user_id, self.settings.follow_threads)
        if decision == "ignore":
            return
        msg = Incoming.of(event, context.team_id or "", context.bot_user_id)
        if decision == "answer" or await self.responder.started_here(msg):
            await self.responder.answer(client, msg)

    async def on_command(self, ack: Callable[[], Awaitable[None]], command: dict[str, Any],
                         respond: AsyncRespond) -> None:
        await ack()  # at once: the store may take longer than Slack's 3 seconds
        text = await commands.outcome(self._command(command), where="slack command /switchboard")
        await respond(text=text, response_type="ephemeral")

    async def _command(self, command: dict[str, Any]) -> str:
        choice = command_choice(str(command.get("text", "")), str(command.get("channel_id", "")))
        user = UserKey.of("slack", str(command["team_id"]), str(command["user_id"]))
        service = self.responder.service
        if choice == "forget":
            return await commands.forget(service, user)
        if choice == "reset":
            return await commands.reset(service, SessionKey.direct(user), user)
        return IN_CHANNEL if choice == "reset outside a DM" else HELP
