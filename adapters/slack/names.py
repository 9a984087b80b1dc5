"""Display names for the model's "You are talking with …": `users.info`, cached in-process."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict

from aiohttp import ClientError
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger("switchboard.slack")
MAX_NAME = 80


class Names:
    """User id -> display name, bounded (least recently used out) and refreshed after `ttl` s."""

    def __init__(self, size: int = 2048, ttl: float = 3600, failed_ttl: float = 60,
                 timeout: float = 2) -> None:
        self.size, self.ttl, self.failed_ttl, self.timeout = size, ttl, failed_ttl, timeout
        self._cache: OrderedDict[tuple[str, str], tuple[float, str]] = OrderedDict()

    async def name(self, client: AsyncWebClient, team: str, user: str) -> str:
        """The person's display name, or their user id when Slack cannot tell us."""
        key = (team, user)
        hit = self._cache.get(key)
        if hit is not None and hit[0] > time.monotonic():
            self._cache.move_to_end(key)
            return hit[1]
        name = await self._lookup(client, user)
        # A failure is retried sooner: it is usually a missing scope or a passing outage.
        ttl = self.ttl if name != user else self.failed_ttl
        self._remember(key, name, ttl)
        return name

    async def _lookup(self, client: AsyncWebClient, user: str) -> str:
        try:
            # Bounded: the answer matters more than the name (retry handlers may sleep on 429).
            async with asyncio.timeout(self.timeout):
                info = await client.users_info(user=user)
        except SlackApiError as exc:
            log.info("users.info failed (%s); naming the user by id", exc.response.get("error"))
            return user
        except (SlackClientError, ClientError, TimeoutError) as exc:
            log.info("users.info failed (%s); naming the user by id", type(exc).__name__)
            return user
        return _pick(info.get("user") or {}) or user

    def _remember(self, key: tuple[str, str], name: str, ttl: float) -> None:
        self._cache[key] = (time.monotonic() + ttl, name)
        self._cache.move_to_end(key)
        while len(self._cache) > self.size:
            self._cache.popitem(last=False)


def _pick(user: dict[str, object]) -> str:
    """Slack's display name, else the full name, else the handle; one short line."""
    profile = user.get("profile")
    profile = profile if isinstance(profile, dict) else {}
    for candidate in (profile.get("display_name"), profile.get("real_name"),
                      user.get("real_name"), user.get("name")):
        # The name goes into the system prompt: no line breaks or control characters.
        printable = "".join(c if c.isprintable() else " " for c in str(candidate or ""))
        text = " ".join(printable.split())
        if text:
            return text[:MAX_NAME]
    return ""
