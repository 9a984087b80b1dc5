"""The buttons under a finished Slack answer: Regenerate, or Approve and Deny for an answer
that asks to run a write tool; their blocks, and putting them there.

Regenerate's `value` is the shared `adapters.regenerate.Press` for the question's turn id;
Approve's and Deny's are `adapters.confirm`'s press data.
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

from adapters import confirm, regenerate
from adapters.appending import Sink
from adapters.regenerate import Press
from core.agent import Confirmation

log = logging.getLogger("switchboard.slack")
ACTION_ID = "regenerate"
CONFIRM_ID = "switchboard_confirm_"  # + y or n
Blocks = list[dict[str, Any]]


def _button(action_id: str, value: str, label: str) -> dict[str, Any]:
    return {"type": "button", "action_id": action_id, "value": value,
            "text": {"type": "plain_text", "text": label}}


def blocks(part: str, press: Press | None = None, asked: Confirmation | None = None) -> Blocks:
    """One message's Markdown as a block, with Approve and Deny, or Regenerate, under it."""
    elements = ([_button(f"{CONFIRM_ID}{'y' if b.primary else 'n'}", b.data, b.label)
                 for b in confirm.buttons(asked)] if asked else
                [_button(ACTION_ID, press.data, regenerate.LABEL)] if press else [])
    return [{"type": "markdown", "text": part},
            {"type": "actions", "block_id": ACTION_ID, "elements": elements}]


async def offer(client: AsyncWebClient, channel: str, shown: Sink, press: Press | None,
                asked: Confirmation | None = None) -> None:
    """Put buttons under the answer's last message; without them, it's still an answer."""
    last = shown.last_message()
    if last is None or (press is None and asked is None):
        return
    ts, part = last
    await _update(client, channel, ts, part, blocks(part, press, asked))


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
        log.info("buttons not changed: %s", exc.response.get("error"))
