"""The slack-bolt app: which events reach the core, the assistant pane and `/switchboard`."""

from __future__ import annotations

import logging
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

from adapters import commands
from adapters.commands import Said
from adapters.slack.answer import BLOCK_ID
from adapters.slack.conversation import Incoming, from_person, message_decision
from adapters.slack.delivery import quietly
from adapters.slack.export import send_export
from adapters.slack.responder import Responder
from adapters.slack.settings import SlackSettings
from adapters.slack.slash import Asked, menu_blocks, parse, picked
from adapters.slack.transport import web_client
from core.keys import SessionKey, UserKey
from core.service import ChatService

log = logging.getLogger("switchboard.slack")
PROMPTS = ["What can you help me with?", "Summarise a text for me", "Explain a concept simply"]
HELP = ("Mention me in a channel and I answer in a thread; each thread is its own conversation. "
        "In a direct message we have one running conversation. You can also send me images, "
        "voice or audio clips, PDFs and text files.\n"
        "`/switchboard reset` starts our direct-message conversation over, "
        "`/switchboard model` and `/switchboard persona` show or (with a name) choose its "
        f"model and my persona, `/switchboard usage` the tokens you used today and this month, "
        f"`/switchboard forget` {commands.FORGET_HELP}, `/switchboard export` "
        f"{commands.EXPORT_HELP}, `/switchboard help` shows this.")
STYLE = commands.Style(HELP, typed="`/switchboard {}`")
Next = Callable[[], Awaitable[BoltResponse]]


def build_app(service: ChatService, settings: SlackSettings,
              app_type: Callable[..., AsyncApp] = AsyncApp) -> AsyncApp:
    """A bolt app answering DMs, mentions, threads, the assistant pane and `/switchboard`."""
    secret = settings.signing_secret.get_secret_value() if settings.signing_secret else ""
    app = app_type(client=web_client(settings), signing_secret=secret,
                   request_verification_enabled=not settings.socket_mode)
    bot = SlackBot(Responder(service, settings), settings)
    app.middleware(bot.allowlist)
    app.assistant(bot.assistant())
    app.event("app_mention")(bot.on_mention)
    app.event("message")(bot.on_message)
    app.command("/switchboard")(bot.on_command)
    app.action(re.compile(r"^switchboard_choose_(model|persona)$"))(bot.on_menu_choice)
    app.action({"block_id": BLOCK_ID})(bot.on_press)
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
                         respond: AsyncRespond, client: AsyncWebClient) -> None:
        await ack()  # at once: the store may take longer than Slack's 3 seconds
        asked = parse(str(command.get("text", "")), str(command.get("channel_id", "")))
        team, user_id = str(command["team_id"]), str(command["user_id"])
        user = UserKey.of("slack", team, user_id)
        facts = await self.responder.names.facts(client, team, user_id)
        said = await self._run(asked, commands.Asker(user, facts))
        if said.file is not None:  # an export: into the DM, as an ephemeral answer cannot
            said = Said(await send_export(client, user_id, said.file, said.text))
        blocks = menu_blocks(said.text, said.menu) if said.menu and said.menu.options else None
        await respond(text=said.text, blocks=blocks, response_type="ephemeral")

    async def on_menu_choice(self, ack: Callable[[], Awaitable[None]], body: dict[str, Any],
                             action: dict[str, Any], respond: AsyncRespond) -> None:
        """A choice made in the menu under `/switchboard model` (or `persona`)."""
        await ack()
        option = action.get("selected_option") or {}
        asked = picked(str(action.get("action_id", "")), str(option.get("value", "")),
                       str((body.get("channel") or {}).get("id", "")))
        if asked is not None:
            said = await self._run(asked, UserKey.of("slack", _team(body), str(body["user"]["id"])))
            await respond(text=said.text, response_type="ephemeral", replace_original=True)

    async def on_press(self, ack: Callable[[], Awaitable[None]], body: dict[str, Any],
                       action: dict[str, Any], client: AsyncWebClient,
                       respond: AsyncRespond) -> None:
        """Any button under an answer: Regenerate, Approve or Deny."""
        await ack()  # at once: the core's checks and the answer take longer than Slack's 3 s
        await self.responder.press(client, _pressed(body), str(action.get("value", "")),
                                   body["message"], respond)

    async def _run(self, asked: Asked, asker: commands.Asker | UserKey) -> Said:
        if asked.answer:
            return Said(asked.answer)
        user = asker.user if isinstance(asker, commands.Asker) else asker
        return await commands.run(self.responder.service, asked.name, asked.args, asker,
                                  SessionKey.direct(user), STYLE)


def _pressed(body: dict[str, Any]) -> Incoming:
    """The conversation of a pressed button: where the pressed answer is tells it, as its
    question did; the presser speaks."""
    message = body["message"]
    event = {"user": str(body["user"]["id"]), "ts": message["ts"],
             "channel": str((body.get("channel") or {}).get("id", "")),
             "thread_ts": message.get("thread_ts")}
    return Incoming.of(event, _team(body), None)


def _team(body: dict[str, Any]) -> str:
    return str((body.get("team") or {}).get("id") or body["user"].get("team_id") or "")
