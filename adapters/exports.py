"""A command's answer as a platform sends it: its text and menu, with an export attached where
the platform takes a file that big; else what went wrong, said instead."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from adapters.commands import Said
from adapters.failures import notice
from core.export import ExportFile

TOO_BIG = "Your export is {size}, more than I may send here ({limit})."
Say = Callable[[Said], Awaitable[object]]
Attach = Callable[[ExportFile, str], Awaitable[object]]  # the file, and its caption


def megabytes(size: int) -> str:
    """`1.5 MB`, one decimal: what a person reads of a file's size."""
    return f"{size / 1_000_000:.1f} MB"


def too_big(file: ExportFile, limit: int) -> str | None:
    """What to say instead of sending `file` where files above `limit` bytes are refused."""
    if len(file.data) <= limit:
        return None
    return TOO_BIG.format(size=megabytes(len(file.data)), limit=megabytes(limit))


async def send(said: Said, say: Say, attach: Attach, *, limit: int, where: str,
               sent: str = "") -> None:
    """Say `said`; its export goes by `attach` with `said.text` as its caption, where files of
    up to `limit` bytes are taken. `sent` is said once it went, where it went elsewhere (a
    private chat); `where` names the place in the log of a failure."""
    if said.file is not None:
        instead = await _attached(said.file, said.text, attach, limit, where)
        if not instead and not sent:
            return
        said = Said(instead or sent)
    await say(said)


async def _attached(file: ExportFile, caption: str, attach: Attach, limit: int,
                    where: str) -> str:
    """'' once `file` is sent; else what to say instead (too big, or why it failed)."""
    big = too_big(file, limit)
    if big:
        return big
    try:
        await attach(file, caption)
    except Exception as exc:
        return notice(exc, where=where).text
    return ""
