"""Which file of a Telegram message to fetch, and under what name: pure functions, no I/O."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from telegram import Message, PhotoSize

# The cloud Bot API's getFile refuses bigger files ("file is too big"): a platform limit.
GET_FILE_LIMIT = 20 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Wanted:
    """One file a message carries, as Telegram describes it (the bytes are fetched later)."""

    file_id: str
    name: str
    claimed_type: str
    size: int | None


def best_photo(sizes: Sequence[PhotoSize], cap: int) -> PhotoSize:
    """The largest size Telegram says is within `cap` (an unknown size counts as within);
    if none is, the smallest, so that its size is refused before any download."""
    by_area = sorted(sizes, key=lambda s: (s.width * s.height, s.file_size or 0))
    fitting = [s for s in by_area if s.file_size is None or s.file_size <= cap]
    return fitting[-1] if fitting else by_area[0]


def wanted(message: Message, cap: int) -> Wanted | None:
    """The file to fetch from a message the core can read, or None if it carries none.

    Telegram sends one file per message (an album is several messages). Names are what the
    core sees as the user's file name; claimed types are never trusted (bytes decide).
    """
    if message.photo:
        photo = best_photo(message.photo, cap)
        return Wanted(photo.file_id, "photo.jpg", "image/jpeg", photo.file_size)
    if (doc := message.document) is not None:
        return Wanted(doc.file_id, doc.file_name or "document", doc.mime_type or "",
                      doc.file_size)
    if (voice := message.voice) is not None:
        return Wanted(voice.file_id, "voice.ogg", voice.mime_type or "audio/ogg",
                      voice.file_size)
    if (audio := message.audio) is not None:
        return Wanted(audio.file_id, audio.file_name or "audio", audio.mime_type or "",
                      audio.file_size)
    if (note := message.video_note) is not None:  # round video: MP4, transcribed as audio
        return Wanted(note.file_id, "video_note.mp4", "video/mp4", note.file_size)
    return None
