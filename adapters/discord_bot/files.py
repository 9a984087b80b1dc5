"""What a Discord message carries: its attachments as `Remote`s, fetched only from Discord."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Final, Protocol

from adapters.files import Remote
from adapters.files import allowed_url as allowed_for
from core.errors import DownloadFailed

log = logging.getLogger("switchboard.discord")
# Where Discord serves uploads; `Attachment.url` is on the first, `proxy_url` on the second.
CDN_HOSTS: Final = frozenset({"cdn.discordapp.com", "media.discordapp.net"})


class Attachment(Protocol):
    """The parts of `discord.Attachment` a `Remote` is made of."""

    @property
    def filename(self) -> str: ...
    @property
    def content_type(self) -> str | None: ...
    @property
    def size(self) -> int: ...
    @property
    def url(self) -> str: ...
    def read(self) -> Awaitable[bytes]: ...


def allowed_url(url: str, api_url: str | None) -> bool:
    """Discord's CDN over https, or the host of the configured API (a proxy, or a test fake)."""
    return allowed_for(url, CDN_HOSTS, api_url)


def _refused() -> Callable[[], Awaitable[bytes]]:
    async def refuse() -> bytes:
        # Never fetched: the address is not Discord's. Logged without it (it names the file).
        log.warning("discord: refused an attachment outside Discord's CDN")
        raise DownloadFailed("attachment outside Discord's CDN")
    return refuse


def remote(attachment: Attachment, api_url: str | None) -> Remote:
    """One attachment: its size as Discord announced it, its bytes read through discord.py."""
    allowed = allowed_url(attachment.url, api_url)
    return Remote(attachment.filename, attachment.content_type or "", attachment.size,
                  attachment.read if allowed else _refused())


def remotes(attachments: Sequence[Attachment], api_url: str | None) -> tuple[Remote, ...]:
    return tuple(remote(attachment, api_url) for attachment in attachments)
