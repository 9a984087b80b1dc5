"""The "Regenerate" button under a finished Slack answer: its blocks, and putting it there.

The button's `value` is `<question turn id>|<asker>|<nonce>`: all a press needs, so it works
after a restart. The nonce is new for every button shown and names the press to the core, so
the same button pressed twice is answered once.

The answer's last message is rewritten with `chat.update` as a `markdown` block (Slack takes
`markdown_text` or `blocks`, never both) and an actions block; the same for a native stream's
last message once it stopped, so both paths share one way (see README).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters import commands
from adapters.pager import Pager
from adapters.slack.reply import Sink
from adapters.slack.stream import Streamed

log = logging.getLogger("switchboard.slack")
ACTION_ID = "regenerate"
LABEL, NOT_YOURS = commands.REGENERATE, commands.REGENERATE_NOT_YOURS
Blocks = list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Press:
    """What a pressed button names: the question's turn, who asked it, and the press."""

    target: str
    asker: str
    nonce: str

    @classmethod
    def parse(cls, value: str) -> Press | None:
        target, _, rest = value.partition("|")
        asker, _, nonce = rest.partition("|")
        return cls(target, asker, nonce) if target and asker and nonce else None


def value(target: str, asker: str) -> str:
    return f"{target}|{asker}|{commands.press_id()}"


def blocks(part: str, target: str, asker: str) -> Blocks:
    """One message's Markdown as a block, with the button under it."""
    button = {"type": "button", "action_id": ACTION_ID, "value": value(target, asker),
              "text": {"type": "plain_text", "text": LABEL}}
    return [{"type": "markdown", "text": part},
            {"type": "actions", "block_id": ACTION_ID, "elements": [button]}]


def last_shown(shown: Sink) -> tuple[str, str] | None:
    """The ts and Markdown of the answer's last message, whichever way it was shown."""
    if isinstance(shown, Streamed) and not shown.refused:
        if not shown.ts:
            return None
        return shown.ts[-1], shown.sent[len(shown.ts) - 1]
    pager = shown.fallback if isinstance(shown, Streamed) else shown
    if isinstance(pager, Pager) and pager.sent.messages:
        last = pager.sent.messages[-1]
        return str(last.message_id), str(last.part)
    return None


async def offer(client: AsyncWebClient, channel: str, shown: Sink, target: str,
                asker: str) -> None:
    """Put a fresh button under the answer's last message; without it, it's still an answer."""
    last = last_shown(shown)
    if last is None:
        return
    ts, part = last
    try:
        # `text` is the notification's fallback; the blocks are what is shown.
        await client.chat_update(channel=channel, ts=ts, text=part,
                                 blocks=blocks(part, target, asker))
    except SlackApiError as exc:
        log.info("regenerate button not added: %s", exc.response.get("error"))


async def unoffer(client: AsyncWebClient, channel: str, message: Mapping[str, Any]) -> None:
    """Take the button off a message (as the press payload shows it), keeping its text."""
    kept = [b for b in message.get("blocks") or [] if b.get("type") != "actions"]
    ts = message.get("ts")
    if not ts:
        return
    try:
        await client.chat_update(channel=channel, ts=str(ts), text=str(message.get("text", "")),
                                 blocks=kept)
    except SlackApiError as exc:
        log.info("old regenerate button not removed: %s", exc.response.get("error"))
