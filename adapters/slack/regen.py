"""The "Regenerate" button under a finished Slack answer: its blocks, and putting it there.

The button's `value` is the shared `adapters.regenerate.Press` for the question's turn id.
The answer's last message is rewritten with `chat.update` as a `markdown` block (Slack takes
`markdown_text` or `blocks`, never both) and an actions block; the same for a native stream's
last message once it stopped, so both paths share one way (see README).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters import regenerate
from adapters.appending import Sink
from adapters.regenerate import Press

log = logging.getLogger("switchboard.slack")
ACTION_ID = "regenerate"
Blocks = list[dict[str, Any]]


def blocks(part: str, press: Press) -> Blocks:
    """One message's Markdown as a block, with the button under it."""
    button = {"type": "button", "action_id": ACTION_ID, "value": press.data,
              "text": {"type": "plain_text", "text": regenerate.LABEL}}
    return [{"type": "markdown", "text": part},
            {"type": "actions", "block_id": ACTION_ID, "elements": [button]}]


async def offer(client: AsyncWebClient, channel: str, shown: Sink, target: str,
                asker: str) -> None:
    """Put a fresh button under the answer's last message; without it, it's still an answer."""
    last = shown.last_message()
    if last is None:
        return
    ts, part = last
    await _update(client, channel, ts, part, blocks(part, Press.fresh(target, asker)))


async def unoffer(client: AsyncWebClient, channel: str, message: Mapping[str, Any]) -> None:
    """Take the button off a message (as the press payload shows it), keeping its text."""
    kept = [b for b in message.get("blocks") or [] if b.get("type") != "actions"]
    if message.get("ts"):
        await _update(client, channel, str(message["ts"]), str(message.get("text", "")), kept)


async def _update(client: AsyncWebClient, channel: str, ts: str, text: str,
                  shown: Blocks) -> None:
    try:
        # `text` is the notification's fallback; the blocks are what is shown.
        await client.chat_update(channel=channel, ts=ts, text=text, blocks=shown)
    except SlackApiError as exc:
        log.info("regenerate button not changed: %s", exc.response.get("error"))
