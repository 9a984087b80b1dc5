"""Real media files for the attachment tests, made with Pillow, pypdf and soundfile."""

from __future__ import annotations

import functools
import io
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




# Shorthands the platform tests use: the same makers, with the arguments those tests need.


def png(width: int = 64, height: int = 48) -> bytes:
    return saved(halves(width, height, "orange", "navy"), "PNG")


@functools.cache  # a 12 Mpx photo takes a while to make
def jpeg(width: int, height: int, quality: int = 90) -> bytes:
    """A photo-like JPEG: a gradient with seeded sensor noise, so it compresses like a photo."""
    x = np.linspace(0.0, 1.0, width, dtype=np.float32)[None, :]
    y = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None]
    rgb = np.stack([200 * x + 30 * y, 120 + 80 * np.sin(6 * x + 4 * y), 220 * y + 20 * x], -1)
    noise = np.random.default_rng(7).normal(0.0, 6.0, (height, width, 1)).astype(np.float32)
    pixels = np.clip(rgb + noise, 0, 255).astype(np.uint8)
    return saved(Image.fromarray(pixels, "RGB"), "JPEG", quality=quality)


def pdf_with_text(text: str) -> bytes:
    return text_pdf(text)


def pdf_encrypted(text: str, password: str) -> bytes:
    return text_pdf(text, password=password)


def pdf_image_only() -> bytes:
    return image_pdf()


def ogg_opus(seconds: float = 1.5) -> bytes:
    """A voice note as Telegram sends one: OGG/Opus, mono, 48 kHz."""
    return sound(seconds, "OGG", "OPUS", volume=0.3)


def zip_named_png() -> bytes:
    return zipped("notes.txt")


def truncated(data: bytes) -> bytes:
    """The first half of a file, as from an interrupted upload."""
    return data[: len(data) // 2]
