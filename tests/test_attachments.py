"""Attachments are decoded by content: images re-encoded, audio timed, the wrong files refused."""

from __future__ import annotations

import asyncio
import io
import random
from collections.abc import Callable

import pytest
from PIL import Image as PILImage

from core.attachments import (
    Audio,
    Image,
    Limits,
    Upload,
    check_count,
    check_size,
    read,
)
from core.errors import (
    AttachmentError,
    AudioTooLong,
    BrokenFile,
    FileTooLarge,
    TooManyFiles,
    UnreadablePdf,
    UnsupportedFile,
    VisionOff,
)
from core.imaging import fit
from core.settings import CoreSettings, sees_images
from tests import media

LIMITS = Limits()


def opened(image: Image) -> PILImage.Image:
    return PILImage.open(io.BytesIO(image.data))


async def image_of(name: str, data: bytes) -> Image:
    result = await read(Upload(name, data), LIMITS)
    assert isinstance(result, Image)
    return result


@pytest.mark.parametrize(("size", "expected"), [
    ((4000, 3000), (1024, 768)), ((3000, 4000), (768, 1024)), ((800, 600), (800, 600)),
    ((10000, 1000), (2048, 205)), ((768, 768), (768, 768)), ((1, 5000), (1, 2048)),
])
def test_fit_bounds_long_and_short_sides_keeping_aspect(
        size: tuple[int, int], expected: tuple[int, int]) -> None:
    assert fit(*size) == expected


async def test_a_12_megapixel_photo_becomes_a_bounded_jpeg() -> None:
    image = await image_of("IMG_0001.JPG", media.photo(4000, 3000))
    # Decoded at 1/4 scale, 2% short of the 1024x768 fit, rather than at 1/2 and resized.
    assert (image.mime, image.width, image.height) == ("image/jpeg", 1000, 750)
    assert opened(image).format == "JPEG" and opened(image).size == (1000, 750)


@pytest.mark.parametrize(("stored", "shown"), [((400, 200), (200, 400)),
                                               ((4000, 2000), (768, 1536))])
async def test_exif_rotation_comes_out_upright(stored: tuple[int, int],
                                               shown: tuple[int, int]) -> None:
    image = opened(await image_of("sideways.jpg", media.rotated_jpeg(*stored)))
    assert image.size == shown
    x, quarter = shown[0] // 2, shown[1] // 4
    top, bottom = image.getpixel((x, quarter)), image.getpixel((x, 3 * quarter))
    assert isinstance(top, tuple) and isinstance(bottom, tuple)
    assert top[0] > 200 > top[2] and bottom[2] > 200 > bottom[0]  # red above, blue below


@pytest.mark.parametrize(("maker", "mime", "size"), [
    (media.transparent_png, "image/png", (300, 200)),
    (media.opaque_rgba_png, "image/jpeg", (300, 200)),  # an alpha channel of all 255 is dropped
    (media.animated_gif, "image/jpeg", (120, 80)),
    (media.webp, "image/jpeg", (2048, 683)),
    (lambda: media.photo(2048, 1536), "image/jpeg", (1024, 768)),  # 1/2 scale lands on the fit
    (lambda: media.saved(media.halves(4000, 3000, "red", "blue"), "PNG"), "image/jpeg",
     (1024, 768)),
    (lambda: media.saved(PILImage.new("CMYK", (100, 50), (0, 255, 255, 0)), "JPEG"),
     "image/jpeg", (100, 50)),
    (lambda: media.saved(PILImage.new("I;16", (3000, 100)), "PNG"), "image/jpeg", (2048, 68)),
    (lambda: media.saved(PILImage.new("P", (3000, 1000)), "GIF"), "image/jpeg", (2048, 683)),
])
async def test_image_formats(maker: Callable[[], bytes], mime: str,
                             size: tuple[int, int]) -> None:
    image = await image_of("picture", maker())
    assert (image.mime, (image.width, image.height)) == (mime, size)


async def test_transparent_png_keeps_its_alpha_and_gif_gives_its_first_frame() -> None:
    png = opened(await image_of("logo.png", media.transparent_png()))
    assert png.mode == "RGBA" and png.getpixel((250, 100)) == (0, 0, 0, 0)
    gif = opened(await image_of("anim.gif", media.animated_gif())).convert("RGB")
    red = gif.getpixel((60, 40))
    assert isinstance(red, tuple) and red[0] > 200 > red[2]


async def test_images_are_refused_when_the_model_has_no_vision() -> None:
    with pytest.raises(VisionOff) as caught:
        await read(Upload("a.png", media.transparent_png()), Limits(vision=False))
    assert "can't see images" in caught.value.user_message


def _broken(data: bytes) -> bytes:
    return data[: len(data) // 2]


@pytest.mark.parametrize(("name", "data", "error", "text"), [
    ("photo.png", media.zipped(), UnsupportedFile, "I can't read .zip files"),
    ("report.zip", media.zipped("word/document.xml"), UnsupportedFile, ".docx files"),
    ("setup.XYZ", random.Random(7).randbytes(4096), UnsupportedFile, "I can't read .xyz files"),
    ("latin1.txt", "café crème".encode("latin-1"), UnsupportedFile, ".txt files"),
    ("noname", random.Random(8).randbytes(512), UnsupportedFile, "that kind of file"),
    ("cut.jpg", _broken(media.photo(800, 600)), BrokenFile, "damaged or cut off"),
    ("empty.txt", b"", BrokenFile, "empty"),
    ("scan.pdf", media.image_pdf(), UnreadablePdf, "no text"),
    ("secret.pdf", media.text_pdf("hidden", password="pw"), UnreadablePdf, "password"),
])
async def test_unusable_files_raise_a_specific_error(name: str, data: bytes,
                                                     error: type[AttachmentError],
                                                     text: str) -> None:
    with pytest.raises(error) as caught:
        await read(Upload(name, data, claimed_type="image/png"), LIMITS)
    assert text in caught.value.user_message
    assert name not in caught.value.user_message and name not in str(caught.value)


async def test_a_decompression_bomb_is_refused_before_decoding() -> None:
    data = media.bomb_png()
    assert len(data) < 100_000
    with pytest.raises(BrokenFile) as caught:
        await read(Upload("tiny.png", data), LIMITS)
    assert caught.value.reason == "bomb" and "pixels" in caught.value.user_message


async def test_above_pillows_warning_threshold_is_a_bomb_too(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(PILImage, "MAX_IMAGE_PIXELS", 300 * 300)
    # Between the warning and the error threshold Pillow only warns; we refuse.
    with pytest.warns(PILImage.DecompressionBombWarning), pytest.raises(BrokenFile) as caught:
        await read(Upload("big.png", media.saved(PILImage.new("L", (400, 400)), "PNG")), LIMITS)
    assert caught.value.reason == "bomb"


@pytest.mark.parametrize(("name", "data", "mime", "ext", "seconds"), [
    ("voice.ogg", media.sound(1.5, "OGG", "OPUS"), "audio/ogg", "ogg", 1.5),
    ("memo.bin", media.sound(2.0, "OGG", "VORBIS", 16_000), "audio/ogg", "ogg", 2.0),
    ("rec.wav", media.sound(1.0, "WAV", "PCM_16", 16_000), "audio/wav", "wav", 1.0),
    ("rec.flac", media.sound(1.0, "FLAC", "PCM_16", 16_000), "audio/flac", "flac", 1.0),
    ("song.mp3", media.sound(3.0, "MP3", "MPEG_LAYER_III", 44_100), "audio/mpeg", "mp3", 3.0),
])
async def test_voice_notes_are_timed(name: str, data: bytes, mime: str, ext: str,
                                     seconds: float) -> None:
    note = await read(Upload(name, data), LIMITS)
    assert isinstance(note, Audio) and note.data == data
    assert (note.mime, note.suffix) == (mime, ext)
    assert note.seconds == pytest.approx(seconds, abs=0.1)


async def test_long_audio_is_refused() -> None:
    # 400 s of silent Opus at 8 kHz mono encodes in about a second.
    with pytest.raises(AudioTooLong) as caught:
        await read(Upload("long.ogg", media.sound(400, "OGG", "OPUS", 8_000, 0.0)), LIMITS)
    assert "5 minutes" in caught.value.user_message


def test_size_and_count_checks() -> None:
    check_size(None, LIMITS)
    check_size(LIMITS.max_bytes, LIMITS)
    with pytest.raises(FileTooLarge) as caught:
        check_size(LIMITS.max_bytes + 1, LIMITS)
    assert caught.value.http_status == 413 and "20 MB" in caught.value.user_message
    check_count(4, LIMITS)
    with pytest.raises(TooManyFiles):
        check_count(5, LIMITS)


async def test_read_refuses_a_download_over_the_limit() -> None:
    with pytest.raises(FileTooLarge):
        await read(Upload("a.txt", b"a" * 101), Limits(max_bytes=100))


async def test_decoding_runs_off_the_event_loop() -> None:
    data = media.photo(4000, 3000)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    await read(Upload("big.jpg", data), LIMITS)
    task.cancel()
    assert ticks > 10


@pytest.mark.parametrize(("model", "offline", "sees"), [
    ("gpt-4o-mini", False, True), ("openai/gpt-4.1", False, True), ("gpt-3.5-turbo", False, False),
    ("claude-sonnet-4", False, True), ("llama3", False, False), ("llama3", True, True),
    ("o4-mini", False, True), ("Gemini-2.5-pro", False, True), ("llava:13b", False, True),
])
def test_vision_follows_the_model_name(model: str, offline: bool, sees: bool) -> None:
    assert sees_images(model, offline=offline) is sees


def test_settings_build_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWITCHBOARD_MAX_ATTACHMENTS", "2")
    monkeypatch.setenv("SWITCHBOARD_VISION", "")
    settings = CoreSettings(_env_file=None, OPENAI_API_KEY="sk-real", SWITCHBOARD_MODEL="llama3")
    assert settings.limits == Limits(max_files=2, vision=False)
    forced = CoreSettings(_env_file=None, OPENAI_API_KEY="sk-real", SWITCHBOARD_MODEL="llama3",
                          SWITCHBOARD_VISION="true", SWITCHBOARD_MAX_AUDIO_SECONDS="60")
    assert forced.limits.vision and forced.limits.max_audio_seconds == 60
    assert CoreSettings(_env_file=None).limits.vision  # the offline model


def test_every_attachment_error_has_an_http_status() -> None:
    for error in (FileTooLarge(1), TooManyFiles(1), UnsupportedFile("x"), BrokenFile(),
                  UnreadablePdf(encrypted=True), AudioTooLong(1), VisionOff()):
        assert error.http_status in (413, 415, 422) and error.user_message
