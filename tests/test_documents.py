"""Documents become text: PDF text layers, and UTF-8 files whose name gives the kind."""

from __future__ import annotations

import json

import pytest

from core.attachments import Document, Limits, Upload, read
from core.documents import as_text, kind_of, suffix
from tests import media

LIMITS = Limits()


async def test_pdf_text_layer_is_read_and_capped() -> None:
    doc = await read(Upload("r.pdf", media.text_pdf("Quarterly report", "Page two")), LIMITS)
    assert isinstance(doc, Document) and doc.kind == "pdf" and not doc.truncated
    assert "Quarterly report" in doc.text and "Page two" in doc.text
    capped = await read(Upload("r.pdf", media.text_pdf(*["x" * 50] * 30)),
                        Limits(max_document_chars=120))
    assert isinstance(capped, Document) and capped.truncated and len(capped.text) == 120


async def test_a_pdf_locked_only_by_an_owner_password_is_read() -> None:
    doc = await read(Upload("r.pdf", media.text_pdf("Open to read", owner="owner")), LIMITS)
    assert isinstance(doc, Document) and "Open to read" in doc.text


@pytest.mark.parametrize(("name", "text", "kind", "language"), [
    ("main.py", "def main() -> None:\n    print('hi')\n", "code", "python"),
    ("App.TSX", "export const A = () => <div/>;\n", "code", "tsx"),
    ("Dockerfile", "FROM python:3.12\n", "code", "dockerfile"),
    ("table.csv", "name,age\nAda,36\n", "csv", ""),
    ("data.json", json.dumps({"a": [1, 2]}), "json", ""),
    ("README.md", "# Title\n\nSome *text*.\n", "markdown", ""),
    ("notes", "plain words\twith a tab\r\n", "text", ""),
    ("photo.png", "not an image at all", "text", ""),  # bytes decide the type, name the kind
    ("build.log", "\x1b[32mok\x1b[0m done\n", "text", ""),
])
async def test_text_files_take_their_kind_from_the_name(name: str, text: str, kind: str,
                                                        language: str) -> None:
    doc = await read(Upload(name, text.encode()), LIMITS)
    assert isinstance(doc, Document)
    assert (doc.text, doc.kind, doc.language, doc.truncated) == (text, kind, language, False)


async def test_text_with_a_bom_and_over_the_cap() -> None:
    doc = await read(Upload("long.txt", ("\ufeff" + "é" * 30_000).encode()), LIMITS)
    assert isinstance(doc, Document) and doc.truncated
    assert doc.text == "é" * LIMITS.max_document_chars


@pytest.mark.parametrize(("data", "expected"), [
    (b"hello\n", "hello\n"), ("\ufeffhi".encode(), "hi"), (b"a\x00b", None),
    ("x\x01" * 10 + "y" * 100, None), ("x\x01" + "y" * 200, "x\x01" + "y" * 200),
    (bytes([0xFF, 0xFE]), None),
])
def test_as_text(data: bytes | str, expected: str | None) -> None:
    assert as_text(data.encode() if isinstance(data, str) else data) == expected


@pytest.mark.parametrize(("name", "ext", "kind"), [
    ("a.PY", "py", ("code", "python")), ("dir/x.tar.gz", "gz", ("text", "")),
    ("weird.<script>", "script", ("text", "")), ("C:\\Users\\me\\x.Md", "md", ("markdown", "")),
    ("no_suffix", "", ("text", "")), ("x." + "a" * 40, "a" * 10, ("text", "")),
    ("makefile", "makefile", ("code", "makefile")),
])
def test_suffix_is_clipped_and_sanitized(name: str, ext: str, kind: tuple[str, str]) -> None:
    assert (suffix(name), kind_of(name)) == (ext, kind)
