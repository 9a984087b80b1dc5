"""Document text: PDF text layers through pypdf, and plain UTF-8 text with its kind and language."""

from __future__ import annotations

import io
import re
from pathlib import PurePath
from typing import Final

from pypdf import PasswordType, PdfReader

from core.errors import AttachmentError, BrokenFile, UnreadablePdf

MAX_PDF_PAGES: Final = 500  # bounds the work on a PDF of many blank pages
# C0 controls other than tab, newlines, form feed and escape (ANSI colours in logs), plus DEL.
_CONTROL = re.compile(r"[\x01-\x08\x0b\x0e-\x1a\x1c-\x1f\x7f]")
CONTROL_SHARE: Final = 0.01

KINDS: Final = {"csv": "csv", "tsv": "csv", "json": "json", "jsonl": "json", "ndjson": "json",
                "geojson": "json", "md": "markdown", "markdown": "markdown"}
LANGUAGES: Final = {
    "py": "python", "pyi": "python", "js": "javascript", "mjs": "javascript", "jsx": "jsx",
    "ts": "typescript", "tsx": "tsx", "java": "java", "kt": "kotlin", "scala": "scala",
    "c": "c", "h": "c", "cpp": "cpp", "cc": "cpp", "hpp": "cpp", "cs": "csharp", "go": "go",
    "rs": "rust", "rb": "ruby", "php": "php", "swift": "swift", "sh": "bash", "bash": "bash",
    "zsh": "zsh", "ps1": "powershell", "sql": "sql", "html": "html", "css": "css",
    "scss": "scss", "xml": "xml", "yaml": "yaml", "yml": "yaml", "toml": "toml", "ini": "ini",
    "lua": "lua", "r": "r", "pl": "perl", "hs": "haskell", "ex": "elixir", "exs": "elixir",
    "erl": "erlang", "clj": "clojure", "dart": "dart", "vue": "vue", "svelte": "svelte",
    "dockerfile": "dockerfile", "makefile": "makefile", "tf": "hcl", "proto": "protobuf",
}


def suffix(name: str, limit: int = 10) -> str:
    """The name's last suffix, lower-case letters and digits only, clipped; '' when none."""
    base = PurePath(name.replace("\\", "/")).name.lower()
    ext = base.rpartition(".")[2] if "." in base else (base if base in LANGUAGES else "")
    return "".join(c for c in ext if c.isascii() and c.isalnum())[:limit]


def kind_of(name: str) -> tuple[str, str]:
    """(kind, language) of a text file from its name: the bytes can't tell CSV from prose."""
    ext = suffix(name)
    if ext in KINDS:
        return KINDS[ext], ""
    if ext in LANGUAGES:
        return "code", LANGUAGES[ext]
    return "text", ""


def as_text(data: bytes) -> str | None:
    """The text when the bytes are UTF-8 (a BOM allowed), without NUL and few control characters."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    if "\x00" in text or len(_CONTROL.findall(text)) > len(text) * CONTROL_SHARE:
        return None
    return text


def clip(text: str, max_chars: int) -> tuple[str, bool]:
    """At most `max_chars` characters, and whether any were cut."""
    return (text[:max_chars], True) if len(text) > max_chars else (text, False)


def _reader(data: bytes) -> PdfReader:
    reader = PdfReader(io.BytesIO(data))
    # Many PDFs are encrypted with an empty user password only to restrict printing: open those.
    if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
        raise UnreadablePdf(encrypted=True)
    return reader


def _pages(reader: PdfReader, max_chars: int) -> str:
    parts: list[str] = []
    size = 0
    for page in reader.pages[:MAX_PDF_PAGES]:
        part = page.extract_text() or ""
        parts.append(part)
        size += len(part)
        if size > max_chars:  # one character past the cap is enough to know it's truncated
            break
    return "\n\n".join(parts)


def pdf_text(data: bytes, max_chars: int) -> tuple[str, bool]:
    """Blocking: (text, truncated) of a PDF's text layer."""
    try:
        text = _pages(_reader(data), max_chars).strip()
    except AttachmentError:
        raise
    except Exception as exc:  # pypdf raises many exception types on malformed files
        raise BrokenFile() from exc
    if not text:
        raise UnreadablePdf(encrypted=False)
    return clip(text, max_chars)
