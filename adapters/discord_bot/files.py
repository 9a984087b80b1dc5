"""What a Discord message carries: its attachments as `Remote`s, fetched only from Discord."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Final, Protocol
from urllib.parse import urlsplit

from adapters.files import Remote
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


def _origin(url: str) -> tuple[str, str, int | None] | None:
    """Scheme, host and port of an absolute http(s) URL without credentials; else None."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # a malformed port or host
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    if parts.username is not None or parts.password is not None:
        return None
    default = 443 if parts.scheme == "https" else 80
    return parts.scheme, parts.hostname.lower(), port or default


def allowed_url(url: str, api_url: str | None) -> bool:
    """Discord's CDN over https, or the host of the configured API (a proxy, or a test fake)."""
    origin = _origin(url)
    if origin is None:
        return False
    if origin[0] == "https" and origin[1] in CDN_HOSTS and origin[2] == 443:
        return True
    return api_url is not None and origin == _origin(api_url)


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
