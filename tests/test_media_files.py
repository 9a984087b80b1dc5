"""The media makers produce what they claim: real images, PDFs, a voice note, a zip, a bomb."""

from __future__ import annotations

import io
import zipfile

import pypdf
import pytest
import soundfile
from PIL import Image, UnidentifiedImageError

from tests import media


def test_png_and_jpeg_open_with_their_size() -> None:
    with Image.open(io.BytesIO(media.png())) as image:
        assert (image.format, image.size) == ("PNG", (64, 48))
    with Image.open(io.BytesIO(media.jpeg(640, 480, quality=70))) as image:
        assert (image.format, image.size) == ("JPEG", (640, 480))


def test_a_12_megapixel_jpeg_is_photo_sized() -> None:
    data = media.jpeg(4000, 3000)
    with Image.open(io.BytesIO(data)) as image:
        assert image.size == (4000, 3000)
        image.load()
    assert 1_000_000 < len(data) < 10_000_000  # like a phone photo, not a flat colour


def test_pdf_text_is_extracted() -> None:
    reader = pypdf.PdfReader(io.BytesIO(media.pdf_with_text("Quarterly report (draft)\nQ3")))
    assert reader.pages[0].extract_text() == "Quarterly report (draft)\nQ3"


def test_encrypted_pdf_needs_its_password() -> None:
    reader = pypdf.PdfReader(io.BytesIO(media.pdf_encrypted("top secret", "hunter2")))
    assert reader.is_encrypted
    with pytest.raises(pypdf.errors.FileNotDecryptedError):
        reader.pages[0].extract_text()
    assert reader.decrypt("hunter2")
    assert reader.pages[0].extract_text() == "top secret"


def test_image_only_pdf_has_no_text() -> None:
    reader = pypdf.PdfReader(io.BytesIO(media.pdf_image_only()))
    assert len(reader.pages) == 1
    assert reader.pages[0].extract_text().strip() == ""
    assert reader.pages[0].images  # the page is one picture


def test_voice_note_is_ogg_opus_of_the_asked_length() -> None:
    info = soundfile.info(io.BytesIO(media.ogg_opus(2.0)))
    assert (info.format, info.subtype, info.samplerate) == ("OGG", "OPUS", 48000)
    assert info.duration == pytest.approx(2.0, abs=0.05)


def test_zip_named_png_is_a_zip_not_an_image() -> None:
    data = media.zip_named_png()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.namelist() == ["notes.txt"]
    with pytest.raises(UnidentifiedImageError):
        Image.open(io.BytesIO(data))


def test_bomb_png_is_small_but_refused() -> None:
    data = media.bomb_png()
    assert len(data) < 200_000
    with pytest.raises(Image.DecompressionBombError):
        Image.open(io.BytesIO(data)).load()


def test_truncated_image_fails_to_load() -> None:
    data = media.jpeg(320, 240)
    cut = media.truncated(data)
    assert len(cut) == len(data) // 2
    with Image.open(io.BytesIO(cut)) as image, pytest.raises(OSError, match="truncated"):
        image.load()
