"""Display names the model sees as each message's `name`: `users.info`, cached in-process."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import ClientError
from cachetools import TLRUCache
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger("switchboard.slack")
MAX_NAME = 80


Known = tuple[str, bool]  # the display name, and whether they are a workspace admin or owner


class Names:
    """User id -> display name and admin flag: a bounded LRU cache (cachetools) whose entries
    expire, a failure sooner."""

    def __init__(self, size: int = 2048, ttl: float = 3600, failed_ttl: float = 60,
                 timeout: float = 2) -> None:
        def expires(key: tuple[str, str], known: Known, now: float) -> float:
            # A failure (named by id) is retried sooner: a missing scope or a passing outage.
            return now + (failed_ttl if known[0] == key[1] else ttl)
        self.timeout = timeout
        self._known: TLRUCache[tuple[str, str], Known] = TLRUCache(size, expires)

    async def name(self, client: AsyncWebClient, team: str, user: str) -> str:
        """The person's display name, or their user id when Slack cannot tell us."""
        return (await self.known(client, team, user))[0]

    async def facts(self, client: AsyncWebClient, team: str, user: str) -> frozenset[str]:
        """What Slack says of them that a role may name: `slack:admin:TEAM`."""
        admin = (await self.known(client, team, user))[1]
        return frozenset({f"slack:admin:{team}"}) if admin else frozenset()

    async def known(self, client: AsyncWebClient, team: str, user: str) -> Known:
        found = self._known.get((team, user))
        if found is None:
            found = self._known[team, user] = await self._lookup(client, user)
        return found

    async def _lookup(self, client: AsyncWebClient, user: str) -> Known:
        try:
            # Bounded: the answer matters more than the name (retry handlers may sleep on 429).
            async with asyncio.timeout(self.timeout):
                info = await client.users_info(user=user)
        except (SlackClientError, ClientError, TimeoutError) as exc:
            why = type(exc).__name__
            if isinstance(exc, SlackApiError):
                why = str(exc.response.get("error"))
            log.info("users.info failed (%s); naming the user by id", why)
            return user, False
        found = info.get("user") or {}
        return _pick(found) or user, bool(found.get("is_admin") or found.get("is_owner"))


def _pick(user: dict[str, object]) -> str:
    """Slack's display name, else the full name, else the handle; one short line."""
    profile = user.get("profile")
    profile = profile if isinstance(profile, dict) else {}
    for candidate in (profile.get("display_name"), profile.get("real_name"),
                      user.get("real_name"), user.get("name")):
        # One short line: no line breaks or control characters.
        printable = "".join(c if c.isprintable() else " " for c in str(candidate or ""))
        text = " ".join(printable.split())
        if text:
            return text[:MAX_NAME]
    return ""
