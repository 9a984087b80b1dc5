"""Image re-encoding: decode safely, turn upright, downscale to what vision models use."""

from __future__ import annotations

import io
from typing import Final

from PIL import Image, ImageFile, ImageOps

from core.errors import BrokenFile

LONG_SIDE: Final = 2048  # OpenAI high detail first fits the image in 2048x2048...
SHORT_SIDE: Final = 768  # ...then scales the short side to 768: pixels beyond that are wasted
JPEG_QUALITY: Final = 85
FORMATS: Final = ("JPEG", "PNG", "GIF", "WEBP")
# JPEG decodes at 1/2, 1/4 or 1/8 scale; taking a scale up to 10% short of the target lets a
# 12 MP photo decode at 1/4 (1000x750, 3 MB) instead of 1/2 (2000x1500, 12 MB) for 2% fewer pixels.
DRAFT_SLACK: Final = 0.9


def fit(width: int, height: int) -> tuple[int, int]:
    """The size to send: long side ≤ 2048, short side ≤ 768, aspect kept, never enlarged."""
    scale = min(1.0, LONG_SIDE / max(width, height), SHORT_SIDE / min(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def too_many_pixels(width: int, height: int) -> bool:
    """Pillow's bomb threshold, checked ourselves: its warning alone would let the decode run."""
    limit = Image.MAX_IMAGE_PIXELS
    return limit is not None and width * height > limit


def has_transparency(image: Image.Image) -> bool:
    """True when some pixel is not fully opaque (an alpha channel of all 255 doesn't count)."""
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode not in ("RGBA", "LA", "PA"):
        return False
    low, _ = image.getchannel("A").getextrema()
    return bool(low < 255)  # type: ignore[operator]


def _normalized(image: Image.Image) -> Image.Image:
    """A mode that resizes smoothly and encodes as JPEG or PNG: palettes, CMYK, 16-bit go RGB(A)."""
    if image.mode in ("RGB", "RGBA", "L", "LA"):
        return image
    return image.convert("RGBA" if has_transparency(image) or "A" in image.mode else "RGB")


def _open(data: bytes) -> ImageFile.ImageFile:
    try:
        image = Image.open(io.BytesIO(data), formats=FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise BrokenFile("bomb") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise BrokenFile() from exc
    if too_many_pixels(*image.size):
        raise BrokenFile("bomb")
    return image


def _decode(image: ImageFile.ImageFile) -> Image.Image:
    # fit is symmetric, so sizing before turning upright gives the same result, cheaper.
    if image.format == "JPEG":  # a 12 MP photo never exists in memory at full size
        width, height = fit(*image.size)
        image.draft("RGB", (int(width * DRAFT_SLACK), int(height * DRAFT_SLACK)))
    try:
        size, smooth = fit(*image.size), _normalized(image)  # palettes resize only "nearest"
        small = (smooth.resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0)
                 if size != image.size else smooth)
        small.load()
        # Turned upright only once small, in place: one copy of the pixels less.
        ImageOps.exif_transpose(small, in_place=True)
        return small
    except (OSError, SyntaxError, ValueError, EOFError) as exc:  # truncated or corrupt data
        raise BrokenFile() from exc


def _encode(image: Image.Image) -> tuple[bytes, str]:
    out = io.BytesIO()
    if has_transparency(image):
        image.convert("RGBA").save(out, "PNG", optimize=True)
        return out.getvalue(), "image/png"
    rgb = image if image.mode in ("RGB", "L") else image.convert("RGB")
    rgb.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return out.getvalue(), "image/jpeg"


def reencode(data: bytes) -> tuple[bytes, str, int, int]:
    """Blocking: (data, mime, width, height) of the image ready for a model; GIFs give frame one."""
    with _open(data) as image:
        small = _decode(image)  # may be `image` itself, so encode before it closes
        encoded, mime = _encode(small)
    return encoded, mime, small.width, small.height
