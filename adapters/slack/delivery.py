"""Delivery guarantees only Slack needs: what the user sees when an answer stops or fails.

A stream the user stopped keeps what was shown; a failure midway is noted under the partial
answer (the same message); a private notice falls back to a public one where Slack refuses it;
the assistant pane's extras never stand in the way of the answer.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncGenerator, Awaitable

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.appending import Sink, Stopped
from adapters.failures import Notice, notice
from adapters.pager import Piece
from adapters.slack.conversation import Target

log = logging.getLogger("switchboard.slack")


async def deliver(pieces: AsyncGenerator[Piece, None], sink: Sink, where: str) -> None:
    """Show the answer as it grows; raise only when nothing of it was shown."""
    answer = ""
    async with contextlib.aclosing(pieces):
        try:
            async for piece in pieces:
                if not isinstance(piece, str):
                    continue  # a tool's progress: the assistant status shows "is thinking…"
                answer += piece
                await sink.show(answer)
            await sink.finish(answer)
        except Stopped as exc:
            # Leaving the loop closes the stream; the core keeps what was generated.
            log.info("reply stopped in slack: %s", exc)
        except Exception as exc:
            said = notice(exc, where=where) if answer else None
            if said is None or said.silent:
                raise
            # Part of the answer is shown: the reason it stopped goes under it.
            await sink.finish(f"{answer}\n\n_{said.text}_")


async def tell(client: AsyncWebClient, target: Target, said: Notice) -> None:
    """Tell the user why there is no answer: only to them when Slack allows it and it should."""
    channel, thread, text = target.channel, target.thread_ts, said.text
    if said.private:
        try:
            await client.chat_postEphemeral(channel=channel, user=target.user, text=text,
                                            thread_ts=thread)
            return
        except SlackApiError as err:
            log.info("ephemeral notice refused: %s", err.response.get("error"))
    try:
        await client.chat_postMessage(channel=channel, thread_ts=thread, text=text)
    except SlackApiError as err:
        log.warning("notice not sent: %s", err.response.get("error"))


async def quietly(call: Awaitable[object]) -> None:
    """An assistant-pane call (status, title, prompts): they fail outside assistant threads."""
    with contextlib.suppress(SlackApiError):
        await call
