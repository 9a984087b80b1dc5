"""Voice notes: which containers we accept, and their duration (mutagen; WebM walked by hand)."""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator
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
    "video/webm": ("audio/webm", "webm"),  # browsers record voice as WebM/Opus
}

# Matroska element ids: containers we step into, and the leaves that carry time.
_CONTAINERS: Final = {0x18538067, 0x1549A966, 0x1654AE6B, 0xAE, 0x1F43B675, 0xA0}
_TIMECODE_SCALE, _DURATION, _TRACK_TYPE = 0x2AD7B1, 0x4489, 0x83
_CLUSTER_TIME, _SIMPLE_BLOCK, _BLOCK = 0xE7, 0xA3, 0xA1
_WANTED: Final = {_TIMECODE_SCALE, _DURATION, _TRACK_TYPE, _CLUSTER_TIME, _SIMPLE_BLOCK, _BLOCK}
_VIDEO_TRACK: Final = 1


def seconds(data: bytes, detected: str) -> float | None:
    """Blocking: the duration in seconds, or None when it can't be told (or WebM has video)."""
    if detected == "video/webm":
        return webm_seconds(data)
    try:
        found = mutagen.File(io.BytesIO(data))
    except Exception:  # mutagen raises many exception types on malformed files
        return None
    length = float(getattr(found.info, "length", 0) or 0) if found is not None else 0.0
    return length if length > 0 else None


def _vint(data: bytes, pos: int) -> tuple[int, int]:
    # EBML variable-size integer: the count of leading zero bits gives the extra bytes.
    first = data[pos]
    width = 9 - first.bit_length()
    if width > 8 or pos + width > len(data):
        raise ValueError("bad EBML integer")
    value = first & (0xFF >> width)
    for byte in data[pos + 1:pos + width]:
        value = (value << 8) | byte
    return value, width


def _elements(data: bytes) -> Iterator[tuple[int, bytes]]:
    """(id, body) of every element, stepping into containers; unknown sizes run to the end."""
    pos = 0
    while pos < len(data):
        id_width = 9 - data[pos].bit_length()
        ident = int.from_bytes(data[pos:pos + id_width], "big")
        size, size_width = _vint(data, pos + id_width)
        start = pos + id_width + size_width
        unknown = size == (1 << (7 * size_width)) - 1
        end = len(data) if unknown else min(len(data), start + size)
        if ident in _CONTAINERS:
            pos = start
            continue
        yield ident, data[start:end]
        pos = end


def _number(ident: int, body: bytes) -> float:
    if ident == _DURATION:
        return float(struct.unpack(">f" if len(body) == 4 else ">d", body)[0])
    if ident in (_SIMPLE_BLOCK, _BLOCK):  # track number, then a signed 16-bit relative time
        _, width = _vint(body, 0)
        return float(struct.unpack(">h", body[width:width + 2])[0])
    return float(int.from_bytes(body, "big"))


def webm_seconds(data: bytes) -> float | None:
    """The declared duration, else the last block's time (live recordings declare none)."""
    found: dict[int, float] = {_TIMECODE_SCALE: 1_000_000.0}
    cluster = last = 0.0
    try:
        for ident, body in _elements(data):
            if ident not in _WANTED:
                continue
            value = _number(ident, body)
            if ident == _TRACK_TYPE and value == _VIDEO_TRACK:
                return None
            cluster = value if ident == _CLUSTER_TIME else cluster
            last = max(last, cluster + value) if ident in (_SIMPLE_BLOCK, _BLOCK) else last
            found[ident] = value
    except (ValueError, IndexError, struct.error):
        return None
    ticks = found.get(_DURATION, last)
    return ticks * found[_TIMECODE_SCALE] / 1e9 if ticks > 0 else None
