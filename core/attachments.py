"""Attachments: what adapters downloaded, decoded by content into images, audio or documents."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Final

import filetype

from core import audio, documents, imaging
from core.errors import (
    AudioTooLong,
    BrokenFile,
    FileTooLarge,
    TooManyFiles,
    UnsupportedFile,
    VisionOff,
)

IMAGE_TYPES: Final = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
PDF: Final = "application/pdf"


@dataclass(frozen=True, slots=True)
class Upload:
    """What an adapter downloaded. `name` is the user's and never logged or put in the system
    role; `claimed_type` is the platform's or client's claim, never trusted."""

    name: str
    data: bytes
    claimed_type: str = ""


@dataclass(frozen=True, slots=True)
class Image:
    """Re-encoded and downscaled: JPEG, or PNG when it has transparency."""

    data: bytes
    mime: str
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class Audio:
    """A voice note as received; `suffix` is what a transcription API wants in the file name."""

    data: bytes
    mime: str
    suffix: str
    seconds: float


@dataclass(frozen=True, slots=True)
class Document:
    """Extracted text; kind is pdf, text, csv, json, markdown or code (then with a language)."""

    name: str
    text: str
    kind: str
    truncated: bool
    language: str = ""


Readable = Image | Audio | Document


@dataclass(frozen=True, slots=True)
class Limits:
    """What one turn may carry; built from `CoreSettings.limits`."""

    max_bytes: int = 20 * 1024 * 1024
    max_files: int = 4
    max_audio_seconds: float = 300
    max_document_chars: int = 20_000
    vision: bool = True


def check_size(size: int | None, limits: Limits) -> None:
    """Before any download, where the platform tells the size; None (not told) passes."""
    if size is not None and size > limits.max_bytes:
        raise FileTooLarge(limits.max_bytes)


def check_count(n: int, limits: Limits) -> None:
    if n > limits.max_files:
        raise TooManyFiles(limits.max_files)


def _unsupported(name: str, extension: str) -> UnsupportedFile:
    # Name the real type when the bytes tell it (a zip named photo.png is a zip), else the name's.
    return UnsupportedFile(extension or documents.suffix(name))


def _image(data: bytes, limits: Limits) -> Image:
    if not limits.vision:
        raise VisionOff("vision is off")
    return Image(*imaging.reencode(data))


def _audio(data: bytes, detected: str, limits: Limits) -> Audio:
    mime, suffix = audio.FORMATS[detected]
    seconds = audio.seconds(data, detected)
    if seconds is None:
        raise UnsupportedFile(suffix)
    if seconds > limits.max_audio_seconds:
        raise AudioTooLong(limits.max_audio_seconds)
    return Audio(data, mime, suffix, seconds)


def _pdf(upload: Upload, limits: Limits) -> Document:
    text, truncated = documents.pdf_text(upload.data, limits.max_document_chars)
    return Document(upload.name, text, "pdf", truncated)


def _text(name: str, text: str, limits: Limits) -> Document:
    clipped, truncated = documents.clip(text, limits.max_document_chars)
    kind, language = documents.kind_of(name)
    return Document(name, clipped, kind, truncated, language)


def decode(upload: Upload, limits: Limits) -> Readable:
    """Blocking: the type from the bytes alone, then its decoder; `read` runs it off the loop."""
    check_size(len(upload.data), limits)
    if not upload.data:
        raise BrokenFile("empty")
    guess = filetype.guess(upload.data[:8192])
    detected = str(guess.mime) if guess else ""
    if detected in IMAGE_TYPES:
        return _image(upload.data, limits)
    if detected in audio.FORMATS:
        return _audio(upload.data, detected, limits)
    if detected == PDF:
        return _pdf(upload, limits)
    text = None if guess else documents.as_text(upload.data)
    if text is not None:
        return _text(upload.name, text, limits)
    raise _unsupported(upload.name, str(guess.extension) if guess else "")


async def read(upload: Upload, limits: Limits) -> Readable:
    """The one entry point: decode an upload in a worker thread, raising `AttachmentError`s."""
    return await asyncio.to_thread(decode, upload, limits)
