"""Fetching what a user attached, the same way on every platform: limits first, then bytes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from core.attachments import Limits, Upload, check_count, check_size
from core.errors import AttachmentError, DownloadFailed

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
