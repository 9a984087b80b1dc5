"""Voice notes: which containers we accept, and their duration (read by mutagen)."""

from __future__ import annotations

import io
from typing import Final

import mutagen

# Detected type → (MIME type to send on, file suffix the transcription API expects).
FORMATS: Final = {
    "audio/ogg": ("audio/ogg", "ogg"),
    "audio/mpeg": ("audio/mpeg", "mp3"),
    "audio/mp4": ("audio/mp4", "m4a"),
    "video/mp4": ("audio/mp4", "m4a"),  # recorders often brand audio-only MP4 as video
    "audio/x-wav": ("audio/wav", "wav"),
    "audio/x-flac": ("audio/flac", "flac"),
}


def seconds(data: bytes, detected: str) -> float | None:
    """Blocking: the duration in seconds, or None when it can't be told."""
    try:
        found = mutagen.File(io.BytesIO(data))
    except Exception:  # mutagen raises many exception types on malformed files
        return None
    length = float(getattr(found.info, "length", 0) or 0) if found is not None else 0.0
    return length if length > 0 else None
