"""Who a Slack user is to the core: their display name and admin flag, from `users.info`."""

from __future__ import annotations

from aiohttp import ClientError
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.lookups import Lookups
from core.keys import Speaker, UserKey

MAX_NAME = 80
Known = tuple[str, bool]  # the display name, and whether they are a workspace admin or owner


class Names:
    """Speakers by workspace and user id, asked of Slack once and kept `ttl` seconds (a
    failure, naming them by id, a minute)."""

    def __init__(self, client: AsyncWebClient, size: int = 2048, ttl: float = 3600) -> None:
        self.known: Lookups[tuple[str, str], Known] = Lookups(
            lambda key: _lookup(client, key[1]), lambda key: (key[1], False),
            (SlackClientError, ClientError), what="users.info", why=_why, size=size, ttl=ttl)

    async def speaker(self, team: str, user: str) -> Speaker:
        name, admin = await self.known((team, user))
        facts = frozenset({f"slack:admin:{team}"}) if admin else frozenset()
        return Speaker(UserKey.of("slack", team, user), name, "Slack", facts)


async def _lookup(client: AsyncWebClient, user: str) -> Known:
    found = (await client.users_info(user=user)).get("user") or {}
    return _pick(found) or user, bool(found.get("is_admin") or found.get("is_owner"))


def _why(exc: Exception) -> str:
    return str(exc.response.get("error")) if isinstance(exc, SlackApiError) \
        else type(exc).__name__


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
