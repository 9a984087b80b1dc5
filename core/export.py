"""A person's data as one JSON document, streamed in chunks: the format and its writer.

Format `switchboard-export`, version 1 (UTF-8 JSON):

    {"format": "switchboard-export", "version": 1, "exported_at": "2026-12-05T04:00:00Z",
     "user": "telegram:42",
     "conversations": [
       {"id": "telegram:42", "title": "hello", "created": "...", "updated": "...",
        "messages": [{"role": "human", "text": "hello", "at": "...", "name": "Ana",
                      "images": [{"id": "0194c2...", "mime": "image/jpeg",
                                  "base64": "..."}]},
                     {"role": "ai", "text": "Hi Ana!", "at": "...", "tools": []}]}]}

Every conversation the person spoke in, newest first. From each, the messages they wrote and
the answers to them: a private conversation is whole; a shared thread or channel gives theirs
and the bot's answers to them, not what other people wrote (that is other people's data).
A title appears only when it is the person's own words. Images come as the store keeps them
(re-encoded, base64), or by id alone once the store let them go (past its per-conversation
cap). Times are UTC, ISO 8601. Each conversation holds what the store still keeps (up to its
history cap); the rolling summary is not exported (it may blend several people's words).
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


def message_json(message: StoredMessage, images: dict[str, str]) -> dict[str, object]:
    out: dict[str, object] = {"role": message.role, "text": message.text,
                              "at": _iso(message.at)}
    if message.role == "human":
        out |= {"name": message.name, "images": [_image(i, images.get(i, ""))
                                                 for i in message.files]}
    else:
        out["tools"] = list(message.tools)
    return out


def _image(image_id: str, kept: str) -> dict[str, str]:
    """One image as `images` holds it ("mime;base64"); without data once the store let it go."""
    mime, _, data = kept.partition(";")
    return {"id": image_id, "mime": mime, "base64": data} if data else {"id": image_id}


def _open_list(document: dict[str, object]) -> str:
    """`document`, whose last field is an empty list, as JSON up to inside that list."""
    return json.dumps(document, ensure_ascii=False)[:-2]


def conversation_pieces(info: SessionInfo, messages: list[StoredMessage],
                        images: dict[str, str]) -> Iterator[str]:
    """One conversation as JSON, a message at a time."""
    own_words = any(m.role == "human" and m.text[:80] == info.title for m in messages)
    yield _open_list({"id": info.session_id, "title": info.title if own_words else "",
                      "created": _iso(info.created), "updated": _iso(info.updated),
                      "messages": []})
    for n, message in enumerate(messages):
        yield (", " if n else "") + json.dumps(message_json(message, images), ensure_ascii=False)
    yield "]}"


async def _texts(store: HistoryStore, user: UserKey, now: float,
                 per_conversation: int) -> AsyncIterator[str]:
    listed = await store.sessions(user)
    yield _open_list({"format": FORMAT, "version": VERSION, "exported_at": _iso(now),
                      "user": str(user), "conversations": []})
    first = True
    for info in listed:
        messages = own(await store.read(info.key, per_conversation), str(user))
        if not messages:
            continue
        wanted = [i for m in messages for i in m.files]
        images = await store.images(info.key, wanted) if wanted else {}
        if not first:
            yield ", "
        for piece in conversation_pieces(info, messages, images):
            yield piece
        first = False
    yield "]}"


async def chunks(store: HistoryStore, user: UserKey, now: float,
                 per_conversation: int) -> AsyncIterator[bytes]:
    """The export, one conversation read at a time, in chunks of about `CHUNK` characters
    (more only by one message)."""
    buffer: list[str] = []
    size = 0
    async for text in _texts(store, user, now, per_conversation):
        buffer.append(text)
        size += len(text)
        if size >= CHUNK:
            yield "".join(buffer).encode()
            buffer, size = [], 0
    if buffer:
        yield "".join(buffer).encode()


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
