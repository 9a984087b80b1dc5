"""Fetching what a user attached, the same way on every platform: limits first, then bytes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from adapters.pager import Piece
from core.attachments import Limits, Upload, check_count, check_size
from core.errors import AttachmentError, DownloadFailed
from core.service import ChatService, Turn

log = logging.getLogger("switchboard.files")
TIMEOUT = 30.0  # seconds for one file; a platform that takes longer is told to the user


@dataclass(frozen=True, slots=True)
class Remote:
    """A file a platform announced: its name, what it claims to be, its size if told, and how
    to get it (only called once the limits allow it)."""

    name: str
    claimed_type: str
    size: int | None
    download: Callable[[], Awaitable[bytes]]


def allowed_url(url: str, hosts: frozenset[str], api_url: str | None) -> bool:
    """Whether a platform's file URL may be fetched: one of the platform's file `hosts` over
    HTTPS, or exactly the configured API's scheme, host and port (a proxy, a test fake);
    never with credentials or control characters in it."""
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in url):  # no header or request splitting
        return False
    origin = _origin(url)
    if origin is None:
        return False
    if origin[0] == "https" and origin[1] in hosts and origin[2] == 443:
        return True
    return api_url is not None and origin == _origin(api_url)


def _origin(url: str) -> tuple[str, str, int] | None:
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
    return parts.scheme, parts.hostname.lower(), port or (443 if parts.scheme == "https" else 80)


def check(files: Sequence[Remote], limits: Limits) -> None:
    """Refuse before any download: too many files, or one the platform says is too large."""
    check_count(len(files), limits)
    for file in files:
        check_size(file.size, limits)


async def fetch(files: Sequence[Remote], limits: Limits,
                seconds: float = TIMEOUT) -> tuple[Upload, ...]:
    """Check the limits, then download each file; AttachmentError says what went wrong."""
    check(files, limits)
    return tuple([await _one(file, limits, seconds) for file in files])


async def _one(file: Remote, limits: Limits, seconds: float) -> Upload:
    try:
        async with asyncio.timeout(seconds):
            data = await file.download()
    except AttachmentError:
        raise
    except Exception as exc:  # the platform's network or HTTP error: never the file's content
        log.info("attachment download failed: %s", type(exc).__name__)
        raise DownloadFailed(type(exc).__name__) from exc
    check_size(len(data), limits)  # a platform that did not say, or said wrong
    return Upload(file.name, data, file.claimed_type)


async def answered(service: ChatService, turn: Turn,
                   uploads: Callable[[], Awaitable[tuple[Upload, ...]]] | None = None, *,
                   keep_partial: bool = False) -> AsyncGenerator[Piece, None]:
    """The turn's answer (and its tools' progress) once `uploads` fetched its files.

    A refused or failed download ends the stream with its error, so the user hears of it on
    the one failure path, like any other failure of the turn.
    """
    if uploads is not None:
        turn = replace(turn, uploads=await uploads())
    async with contextlib.aclosing(service.events(turn, keep_partial=keep_partial)) as pieces:
        async for piece in pieces:
            yield piece
