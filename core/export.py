"""A person's data as one JSON document, streamed in chunks: the format and its writer.

Format `switchboard-export`, version 1 (UTF-8 JSON):

    {"format": "switchboard-export", "version": 1, "exported_at": "2026-12-05T04:00:00Z",
     "user": "telegram:42",
     "conversations": [
       {"id": "telegram:42", "title": "hello", "created": "...", "updated": "...",
        "messages": [{"role": "human", "text": "hello", "at": "...", "name": "Ana",
                      "images": ["0194c2..."]},
                     {"role": "ai", "text": "Hi Ana!", "at": "...", "tools": []}]}]}

Every conversation the person spoke in, newest first. From each, the messages they wrote and
the answers to them: a private conversation is whole; a shared thread or channel gives theirs
and the bot's answers to them, not what other people wrote (that is other people's data).
A title appears only when it is the person's own words. Images are named by id, not
included; times are UTC, ISO 8601. Up to the store's history cap per conversation is kept.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from core.keys import UserKey
from core.messages import StoredMessage
from core.store import HistoryStore, SessionInfo

FORMAT, VERSION = "switchboard-export", 1
CHUNK = 64 * 1024  # characters per yielded chunk, about: one conversation may be far larger


@dataclass(frozen=True, slots=True)
class ExportFile:
    """The whole export as a file a platform can send: its name, bytes and media type."""

    name: str
    data: bytes
    media_type: str = "application/json"


def _iso(seconds: int | float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def own(messages: Iterable[StoredMessage], user: str) -> list[StoredMessage]:
    """The person's messages and the answers that followed each, in order."""
    kept, mine = [], False
    for message in messages:
        if message.role == "human":
            mine = message.user == user
        if mine:
            kept.append(message)
    return kept


def message_json(message: StoredMessage) -> dict[str, object]:
    out: dict[str, object] = {"role": message.role, "text": message.text,
                              "at": _iso(message.at)}
    if message.role == "human":
        out |= {"name": message.name, "images": list(message.files)}
    else:
        out["tools"] = list(message.tools)
    return out


def conversation_json(info: SessionInfo, messages: list[StoredMessage]) -> dict[str, object]:
    own_words = any(m.role == "human" and m.text[:80] == info.title for m in messages)
    return {"id": info.session_id, "title": info.title if own_words else "",
            "created": _iso(info.created), "updated": _iso(info.updated),
            "messages": [message_json(m) for m in messages]}


def _pieces(user: UserKey, now: float) -> tuple[str, str]:
    """The document's opening (up to the conversations' list) and its closing."""
    head = json.dumps({"format": FORMAT, "version": VERSION, "exported_at": _iso(now),
                       "user": str(user), "conversations": []}, ensure_ascii=False)
    return head[:-2], "]}"


def _batched(parts: Iterator[str]) -> Iterator[str]:
    buffer: list[str] = []
    size = 0
    for part in parts:
        buffer.append(part)
        size += len(part)
        if size >= CHUNK:
            yield "".join(buffer)
            buffer, size = [], 0
    if buffer:
        yield "".join(buffer)


async def chunks(store: HistoryStore, user: UserKey, now: float,
                 per_conversation: int) -> AsyncIterator[bytes]:
    """The export, one conversation read at a time, in chunks of about `CHUNK` characters."""
    head, tail = _pieces(user, now)
    listed = await store.sessions(user)  # before the first chunk: a store error comes first
    yield head.encode()
    first = True
    for info in listed:
        messages = own(await store.read(info.key, per_conversation), str(user))
        if not messages:
            continue
        text = json.dumps(conversation_json(info, messages), ensure_ascii=False)
        for piece in _batched(iter(((" " if first else ", "), text))):
            yield piece.encode()
        first = False
    yield tail.encode()


def file_name(now: float) -> str:
    return f"switchboard-export-{datetime.fromtimestamp(now, UTC):%Y-%m-%d}.json"


async def collect(parts: AsyncIterator[bytes], now: float) -> ExportFile:
    """All chunks as one file, for platforms that send a document (Telegram, Slack, Discord)."""
    return ExportFile(file_name(now), b"".join([part async for part in parts]))


async def started(parts: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """`parts` with its first chunk already read: what fails before any data (the store is
    down) raises here, while an HTTP handler can still answer with an error status."""
    first = await anext(parts)

    async def rest() -> AsyncIterator[bytes]:
        yield first
        async for part in parts:
            yield part
    return rest()
