"""Real media files for the attachment tests, made with Pillow, pypdf and soundfile."""

from __future__ import annotations

import io
import struct
import zipfile

import numpy as np
import soundfile as sf
from PIL import Image
from pypdf import PdfWriter
from pypdf.generic import DictionaryObject, NameObject, StreamObject

ORIENTATION = 0x0112  # the EXIF tag


def saved(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def photo(width: int, height: int, **options: object) -> bytes:
    """A smooth JPEG, sized like a phone photo's file rather than like noise."""
    gray = Image.linear_gradient("L").resize((width, height))
    return saved(Image.merge("RGB", (gray, gray.transpose(Image.Transpose.ROTATE_180), gray)),
                 "JPEG", quality=90, **options)


def halves(width: int, height: int, left: str | tuple[int, ...], right: str | tuple[int, ...],
           mode: str = "RGB") -> Image.Image:
    image = Image.new(mode, (width, height), left)
    image.paste(Image.new(mode, (width // 2, height), right), (width // 2, 0))
    return image


def rotated_jpeg(width: int = 400, height: int = 200) -> bytes:
    """Stored red|blue; EXIF orientation 6 shows it turned a quarter clockwise: red on top."""
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    return saved(halves(width, height, "red", "blue"), "JPEG", exif=exif)


def transparent_png() -> bytes:
    return saved(halves(300, 200, (255, 0, 0, 255), (0, 0, 0, 0), "RGBA"), "PNG")


def opaque_rgba_png() -> bytes:
    return saved(Image.new("RGBA", (300, 200), (0, 128, 0, 255)), "PNG")


def animated_gif() -> bytes:
    first, second = Image.new("RGB", (120, 80), "red"), Image.new("RGB", (120, 80), "blue")
    return saved(first, "GIF", save_all=True, append_images=[second], duration=100)


def webp() -> bytes:
    return saved(Image.new("RGB", (3000, 1000), "green"), "WEBP")


def bomb_png(side: int = 20_000) -> bytes:
    """A 1-bit PNG of side x side pixels, a few dozen kilobytes on disk."""
    return saved(Image.new("1", (side, side)), "PNG")


def zipped(name: str = "inner.txt") -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(name, "hello")
    return out.getvalue()


def text_pdf(*pages: str, password: str = "", owner: str = "") -> bytes:
    """A PDF whose pages draw `pages` in Helvetica, so pypdf can extract them."""
    writer = PdfWriter()
    font = writer._add_object(DictionaryObject({
        NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
        NameObject("/BaseFont"): NameObject("/Helvetica")}))
    for text in pages:
        page = writer.add_blank_page(612, 792)
        page[NameObject("/Resources")] = DictionaryObject({
            NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})})
        stream = StreamObject()
        stream.set_data(f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("latin-1"))
        page[NameObject("/Contents")] = writer._add_object(stream)
    if password or owner:
        writer.encrypt(user_password=password, owner_password=owner or password,
                       algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def image_pdf() -> bytes:
    """A scan: one page that is only a picture, no text layer."""
    return saved(Image.new("RGB", (600, 800), "white"), "PDF")


def sound(seconds: float, fmt: str, subtype: str | None = None, rate: int = 48_000,
          volume: float = 0.1) -> bytes:
    """A tone of `seconds` in the given soundfile format; volume 0 (silence) encodes fastest."""
    t = np.arange(round(seconds * rate), dtype=np.float32) / rate
    out = io.BytesIO()
    sf.write(out, volume * np.sin(2 * np.pi * 440 * t), rate, format=fmt, subtype=subtype)
    return out.getvalue()


def _element(ident: int, body: bytes, *, unknown_size: bool = False) -> bytes:
    # The size in the fewest bytes, as muxers write it (filetype looks for a 1-byte DocType size).
    width = 8 if unknown_size else next(w for w in range(1, 9) if len(body) < (1 << 7 * w) - 1)
    size = (1 << 7 * width) - 1 if unknown_size else len(body)
    return (ident.to_bytes((ident.bit_length() + 7) // 8, "big")
            + (size | 1 << 7 * width).to_bytes(width, "big") + body)


def _uint(ident: int, value: int) -> bytes:
    return _element(ident, value.to_bytes(4, "big"))


def webm(seconds: int, *, declared: bool = True, video: bool = False) -> bytes:
    """A WebM skeleton as browsers record voice: one Opus track, a cluster per second."""
    header = _element(0x1A45DFA3, _element(0x4282, b"webm"))
    info = _uint(0x2AD7B1, 1_000_000) + (
        _element(0x4489, struct.pack(">d", seconds * 1000.0)) if declared else b"")
    track = _uint(0xD7, 1) + _uint(0x83, 1 if video else 2) + _element(0x86, b"A_OPUS")
    clusters = b"".join(
        _element(0x1F43B675, _uint(0xE7, second * 1000) + b"".join(
            _element(0xA3, b"\x81" + struct.pack(">h", ms) + b"\x80" + bytes(20))
            for ms in range(0, 1000, 20)))
        for second in range(seconds))
    body = _element(0x1549A966, info) + _element(0x1654AE6B, _element(0xAE, track)) + clusters
    return header + _element(0x18538067, body, unknown_size=not declared)
