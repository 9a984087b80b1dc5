"""`/switchboard export`: the person's export, uploaded into their direct messages with the bot.

A slash command's own answer is ephemeral text only, so the file goes to the one place where
the person alone reads it: their DM with the bot (`im:write` opens it, `files:write` uploads).
"""

from __future__ import annotations

from slack_sdk.errors import SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.commands import too_big
from adapters.failures import notice
from core.export import ExportFile

UPLOAD_LIMIT = 1_000_000_000  # Slack takes files of up to 1 GB
SENT = "I sent the file to our direct messages."


async def send_export(client: AsyncWebClient, user: str, file: ExportFile, comment: str) -> str:
    """Upload `file` into the DM with `user` (a Slack user id); returns what the slash
    command answers (where the file went, or what went wrong)."""
    big = too_big(file, UPLOAD_LIMIT)
    if big:
        return big
    try:
        opened = await client.conversations_open(users=user)
        await client.files_upload_v2(channel=str(opened["channel"]["id"]), file=file.data,
                                     filename=file.name, title=file.name,
                                     initial_comment=comment)
    except SlackClientError as exc:
        return notice(exc, where="slack export").text
    return SENT
