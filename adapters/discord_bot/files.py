"""What a Discord message carries: its attachments as `Remote`s, fetched only from Discord."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Final

import discord

from adapters.files import Remote, fetch
from adapters.files import allowed_url as allowed_for
from core.attachments import Upload
from core.errors import DownloadFailed
from core.service import ChatService

log = logging.getLogger("switchboard.discord")
# Where Discord serves uploads; `Attachment.url` is on the first, `proxy_url` on the second.
CDN_HOSTS: Final = frozenset({"cdn.discordapp.com", "media.discordapp.net"})


def allowed_url(url: str, api_url: str | None) -> bool:
    """Discord's CDN over https, or the host of the configured API (a proxy, or a test fake)."""
    return allowed_for(url, CDN_HOSTS, api_url)


async def _refused() -> bytes:
    # Never fetched: the address is not Discord's. Logged without it (it names the file).
    log.warning("discord: refused an attachment outside Discord's CDN")
    raise DownloadFailed("attachment outside Discord's CDN")


def remote(attachment: discord.Attachment, api_url: str | None) -> Remote:
    """One attachment: its size as Discord announced it, its bytes read through discord.py."""
    allowed = allowed_url(attachment.url, api_url)
    return Remote(attachment.filename, attachment.content_type or "", attachment.size,
                  attachment.read if allowed else _refused)


def uploads(attachments: Sequence[discord.Attachment], api_url: str | None,
            service: ChatService) -> Callable[[], Awaitable[tuple[Upload, ...]]] | None:
    """How a message's files are fetched once the limits allow them; None when it has none."""
    files = tuple(remote(attachment, api_url) for attachment in attachments)
    return (lambda: fetch(files, service.settings.limits)) if files else None
