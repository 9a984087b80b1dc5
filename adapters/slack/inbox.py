"""Crash-safe delivery on Slack: an event is in the inbox before bolt acknowledges it.

In Socket Mode and in the Events API alike, Slack gets its acknowledgement only once
`AsyncApp.async_dispatch` returned, while an event's listener runs afterwards in a task of its
own. So `InboxApp.async_dispatch` keeps the event before dispatching it, and bolt's listener
completion handler, called when that task ends, acknowledges it in the inbox (at once when no
listener took it). At start, and every `replay_after` from then on, what a stopped replica
left is claimed and dispatched through bolt again; the core's turn ids (`channel:ts`) make a
replay of an answered event silent.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.listener.async_listener_completion_handler import (
    AsyncListenerCompletionHandler,
)
from slack_bolt.listener.async_listener_start_handler import AsyncListenerStartHandler
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from adapters.inbox import Keeper, RedisInbox
from core.keys import UserKey

STARTED = "switchboard_listener_started"  # set in the request's context by the start handler


def event_id(body: dict[str, Any]) -> str | None:
    """The id of an Events API delivery, the same on every retry; None for anything else."""
    if body.get("type") != "event_callback" or not body.get("event_id"):
        return None
    return str(body["event_id"])


async def erase_user(inbox: RedisInbox, user: UserKey) -> int:
    """The core's eraser: remove the pending events a Slack user sent; returns how many."""
    if user.platform != "slack" or len(user.parts) != 2:
        return 0
    removed = 0
    for eid, payload in await inbox.entries():
        if _sent_by(payload, *user.parts):
            removed += await inbox.redact(eid, None)
    return removed


def _sent_by(payload: str, team: str, person: str) -> bool:
    try:
        body = json.loads(payload)
        return bool(body.get("team_id") == team and body["event"].get("user") == person)
    except (ValueError, KeyError, AttributeError):
        return False


class InboxApp(AsyncApp):
    """A bolt app that keeps every event in `keeper` from before its ack until it is handled."""

    def __init__(self, *, keeper: Keeper, **options: Any) -> None:
        super().__init__(**options)
        self.keeper = keeper
        self.listener_runner.listener_start_handler = _Started()
        self.listener_runner.listener_completion_handler = _Completed(keeper)

    async def async_dispatch(self, req: AsyncBoltRequest) -> BoltResponse:
        eid = event_id(req.body)
        if eid is None:
            return await super().async_dispatch(req)
        # StoreUnavailable fails the request: a 500 (HTTP) or no ack (Socket Mode), so Slack
        # sends the event again later.
        await self.keeper.put(eid, json.dumps(req.body))
        self.keeper.enter(eid)
        try:
            response = await super().async_dispatch(req)
            # A listener's task was created before dispatch returned: one turn of the loop lets
            # it start, and the start handler mark the request.
            await asyncio.sleep(0)
        except BaseException:
            await self.keeper.leave(eid, handled=False)
            raise
        if not req.context.get(STARTED):  # refused or ignored: nothing else will ack it
            await self.keeper.leave(eid, handled=True)
        return response

    async def replay(self, eid: str, payload: str) -> None:
        """Dispatch a kept event again, as Socket Mode does (there is no signature to check)."""
        try:
            body = json.loads(payload)
        except ValueError:
            await self.keeper.drop(eid, "does not parse")
            return
        await self.async_dispatch(AsyncBoltRequest(body=body, mode="socket_mode"))

    def replaying(self) -> contextlib.AbstractAsyncContextManager[None]:
        """Replay what earlier runs left, now and every `replay_after` while the block runs."""
        return self.keeper.replaying(self.replay)


class _Started(AsyncListenerStartHandler):
    async def handle(self, request: AsyncBoltRequest, response: BoltResponse | None) -> None:
        request.context[STARTED] = True


class _Completed(AsyncListenerCompletionHandler):
    def __init__(self, keeper: Keeper) -> None:
        self.keeper = keeper

    async def handle(self, request: AsyncBoltRequest, response: BoltResponse | None) -> None:
        eid = event_id(request.body)
        if eid is None:
            return
        task = asyncio.current_task()
        # Cancelled means cut off (the process is stopping): leave it for the replay.
        cut_off = task is not None and task.cancelling() > 0
        await self.keeper.leave(eid, handled=not cut_off)
