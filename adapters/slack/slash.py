"""`/switchboard …`: which shared command it runs, the menu a choice shows, an export's upload.

A slash command knows its channel but never its thread, and in Slack every channel thread is
its own conversation: so resets, models and personas apply to the direct-message conversation
only, and a command in a channel says so instead of guessing a thread. A slash command's own
answer is ephemeral text only, so an export goes to the one place where the person alone reads
it: their DM with the bot (`im:write` opens it, `files:write` uploads).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from adapters import commands, exports
from adapters.commands import BY_NAME, KINDS, Said
from adapters.slack.conversation import team_of
from adapters.slack.names import Names
from core.export import ExportFile
from core.keys import SessionKey, UserKey
from core.service import ChatService

TYPED = "`/switchboard {}`"
HELP = ("Mention me in a channel and I answer in a thread; each thread is its own conversation. "
        "In a direct message we have one running conversation, the one that reset, model and "
        "persona change. You can also send me images, voice or audio clips, PDFs and text "
        f"files.\n{commands.listing(TYPED)}")
SECTION_LIMIT = 3000  # a section block's text: where a command's answer shows with its menu
STYLE = commands.Style(HELP, typed=TYPED, limit=SECTION_LIMIT)
UPLOAD_LIMIT = 1_000_000_000  # Slack takes files of up to 1 GB
SENT = "I sent the file to our direct messages."
Ack = Callable[[], Awaitable[None]]
ACTION_IDS = {kind: f"switchboard_choose_{kind}" for kind in KINDS}
MAX_OPTIONS = 100  # a static_select lists at most 100 options
MAX_LABEL = 75  # nor labels longer than 75 characters
CHOOSE_IN_DM = ("A command here cannot tell which thread you mean, and each thread here is its "
                "own conversation. Choose the model and persona of our direct-message "
                "conversation there: `/switchboard model` or `/switchboard persona` in a "
                "direct message to me.")
IN_CHANNEL = ("Each thread here is its own conversation: mention me in a new message to start "
              "over. `/switchboard reset` in a direct message resets that conversation.")


@dataclass(frozen=True, slots=True)
class Asked:
    """The shared command `/switchboard <text>` runs, or Slack's own `answer` instead."""

    name: str
    args: str = ""
    answer: str = ""


def parse(text: str, channel: str) -> Asked:
    """Read `/switchboard <text>` typed in `channel`; only DM conversations can be changed."""
    word, _, rest = text.strip().partition(" ")
    word, rest, dm = word.lower(), rest.strip(), channel.startswith("D")
    command = BY_NAME.get(word)
    if command is not None and command.argument:
        return Asked(word, rest, "" if dm or word not in KINDS else CHOOSE_IN_DM)
    if rest or command is None:
        return Asked("help")
    return Asked(word, "", IN_CHANNEL if word == "reset" and not dm else "")


def picked(action_id: str, value: str, channel: str) -> Asked | None:
    """What choosing `value` in a `/switchboard` menu asks for; None for another menu."""
    kind = next((k for k, a in ACTION_IDS.items() if a == action_id), None)
    if kind is None or not value:
        return None
    return parse(f"{kind} {value}", channel)


def menu_blocks(said: Said) -> list[dict[str, Any]] | None:
    """The answer, then a menu choosing among its options with the current one selected; None
    (the text alone) without a menu."""
    menu = said.menu
    if menu is None or not menu.options:  # Slack refuses a message holding an empty menu
        return None
    items = [{"text": {"type": "plain_text", "text": commands.label(o, MAX_LABEL)},
              "value": o.name} for o in menu.options[:MAX_OPTIONS]]
    select: dict[str, Any] = {"type": "static_select", "action_id": ACTION_IDS[menu.kind],
                              "placeholder": {"type": "plain_text",
                                              "text": f"Choose a {menu.kind}"},
                              "options": items}
    selected = [i for i in items if i["value"] == menu.chosen]
    if selected:
        select["initial_option"] = selected[0]
    section = {"type": "section", "text": {"type": "mrkdwn", "text": said.text}}
    return [section, {"type": "actions", "elements": [select]}]


class Slash:
    """The `/switchboard` command, and the choices made in its menus."""

    def __init__(self, service: ChatService, names: Names) -> None:
        self.service, self.names = service, names

    async def on_command(self, ack: Ack, command: dict[str, Any], respond: AsyncRespond,
                         client: AsyncWebClient) -> None:
        await ack()  # at once: the store may take longer than Slack's 3 seconds
        asked = parse(str(command.get("text", "")), str(command.get("channel_id", "")))
        team, user_id = str(command["team_id"]), str(command["user_id"])
        who = await self.names.speaker(team, user_id)
        said = await self._run(asked, commands.Asker(who.user, who.roles))
        await exports.send(  # an export goes into the DM, as an ephemeral answer cannot hold it
            said, lambda shown: respond(text=shown.text, blocks=menu_blocks(shown),
                                        response_type="ephemeral"),
            lambda file, comment: send_export(client, user_id, file, comment),
            limit=UPLOAD_LIMIT, where="slack export", sent=SENT)

    async def on_menu_choice(self, ack: Ack, body: dict[str, Any], action: dict[str, Any],
                             respond: AsyncRespond) -> None:
        """A choice made in the menu under `/switchboard model` (or `persona`)."""
        await ack()
        option = action.get("selected_option") or {}
        asked = picked(str(action.get("action_id", "")), str(option.get("value", "")),
                       str((body.get("channel") or {}).get("id", "")))
        if asked is not None:
            user = UserKey.of("slack", team_of(body), str(body["user"]["id"]))
            said = await self._run(asked, commands.Asker(user))
            await respond(text=said.text, response_type="ephemeral", replace_original=True)

    async def _run(self, asked: Asked, asker: commands.Asker) -> Said:
        if asked.answer:
            return Said(asked.answer)
        return await commands.run(self.service, asked.name, asked.args, asker,
                                  SessionKey.direct(asker.user), STYLE)


async def send_export(client: AsyncWebClient, user: str, file: ExportFile, comment: str) -> None:
    """Upload `file` into the DM with `user` (a Slack user id)."""
    opened = await client.conversations_open(users=user)
    await client.files_upload_v2(channel=str(opened["channel"]["id"]), file=file.data,
                                 filename=file.name, title=file.name, initial_comment=comment)
