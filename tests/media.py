"""Small real media files made by Pillow, pypdf, soundfile and zipfile, for attachment tests."""

from __future__ import annotations

import functools
import io
import zipfile

import numpy as np
import soundfile
from PIL import Image
from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

BOMB_SIDE = 20_000  # 400 Mpx: over twice Pillow's MAX_IMAGE_PIXELS, so opening it is refused


def _photo(width: int, height: int) -> Image.Image:
    """A photo-like RGB image: smooth colour gradients plus sensor-like noise (seeded)."""
    x = np.linspace(0.0, 1.0, width, dtype=np.float32)[None, :]
    y = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None]
    rgb = np.stack([200 * x + 30 * y, 120 + 80 * np.sin(6 * x + 4 * y), 220 * y + 20 * x], -1)
    noise = np.random.default_rng(7).normal(0.0, 6.0, (height, width, 1)).astype(np.float32)
    return Image.fromarray(np.clip(rgb + noise, 0, 255).astype(np.uint8), "RGB")


def png(width: int = 64, height: int = 48) -> bytes:
    out = io.BytesIO()
    _photo(width, height).save(out, "PNG")
    return out.getvalue()


@functools.cache  # a 12 Mpx photo takes over a second to make
def jpeg(width: int, height: int, quality: int = 90) -> bytes:
    out = io.BytesIO()
    _photo(width, height).save(out, "JPEG", quality=quality)
    return out.getvalue()


def _escape(line: str) -> str:
    return line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def _text_pdf(text: str) -> PdfWriter:
    """A one-page PDF whose content stream shows `text` (one line per line) in Helvetica."""
    writer = PdfWriter()
    page = writer.add_blank_page(612, 792)
    font = DictionaryObject({NameObject("/Type"): NameObject("/Font"),
                             NameObject("/Subtype"): NameObject("/Type1"),
                             NameObject("/BaseFont"): NameObject("/Helvetica"),
                             NameObject("/Encoding"): NameObject("/WinAnsiEncoding")})
    fonts = DictionaryObject({NameObject("/F1"): writer._add_object(font)})
    page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): fonts})
    lines = " T* ".join(f"({_escape(line)}) Tj" for line in text.split("\n"))
    stream = DecodedStreamObject()
    stream.set_data(f"BT /F1 12 Tf 14 TL 72 720 Td {lines} ET".encode("cp1252"))
    page[NameObject("/Contents")] = writer._add_object(stream)
    return writer


def _saved(writer: PdfWriter) -> bytes:
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pdf_with_text(text: str) -> bytes:
    return _saved(_text_pdf(text))


def pdf_encrypted(text: str, password: str) -> bytes:
    writer = _text_pdf(text)
    writer.encrypt(user_password=password, owner_password=password)
    return _saved(writer)


def pdf_image_only() -> bytes:
    """A scanned-looking page: one image, no text layer."""
    out = io.BytesIO()
    _photo(200, 260).save(out, "PDF", resolution=72.0)
    return out.getvalue()


def ogg_opus(seconds: float = 1.5) -> bytes:
    """A real OGG/Opus voice note: a 440 Hz tone, mono, 48 kHz."""
    rate = 48_000
    t = np.arange(int(seconds * rate), dtype=np.float32) / rate
    out = io.BytesIO()
    soundfile.write(out, 0.3 * np.sin(2 * np.pi * 440 * t), rate, format="OGG", subtype="OPUS")
    return out.getvalue()


def zip_named_png() -> bytes:
    """A real zip archive, for sending under a .png name."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("notes.txt", "not an image\n" * 20)
    return out.getvalue()


@functools.cache
def bomb_png() -> bytes:
    """A few-KB PNG that declares 400 Mpx: Pillow refuses it as a decompression bomb."""
    out = io.BytesIO()
    Image.new("1", (BOMB_SIDE, BOMB_SIDE)).save(out, "PNG", optimize=True)
    return out.getvalue()


def truncated(data: bytes) -> bytes:
    """The first half of a file, as from an interrupted upload."""
    return data[: len(data) // 2]
