"""Telegram: plain text plus entities (UTF-16 offsets), sent without parse_mode."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from adapters.render.layout import Flavor, Frame, Line

FLAVOR = Flavor(bullet="•", heading_marks=0, heading_styles=("bold", "underline"))
LIMIT = 4096  # Telegram's limit, in UTF-16 code units of the text
_TYPES = {"bold": "bold", "italic": "italic", "strike": "strikethrough",
          "underline": "underline", "code": "code", "link": "text_link"}


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, as Telegram counts offsets and limits."""
    return len(text.encode("utf-16-le")) // 2


@dataclass(frozen=True, slots=True)
class Entity:
    """A Telegram MessageEntity as plain data: `telegram.MessageEntity(**e.to_dict())`."""

    type: str
    offset: int
    length: int
    url: str | None = None
    language: str | None = None

    def to_dict(self) -> dict[str, str | int]:
        """The Bot API JSON form (what `MessageEntity.de_json` and the HTTP API take)."""
        out: dict[str, str | int] = {"type": self.type, "offset": self.offset,
                                     "length": self.length}
        if self.url is not None:
            out["url"] = self.url
        if self.language:
            out["language"] = self.language
        return out


@dataclass(frozen=True, slots=True)
class TelegramPart:
    """One message: `text` and its `entities`, offsets relative to this part."""

    text: str
    entities: tuple[Entity, ...]


def render(lines: Sequence[Line]) -> TelegramPart:
    """One part from laid-out lines; every entity is non-empty and properly nested."""
    builder = _Builder()
    for i, line in enumerate(lines):
        builder.line(line, lines[i - 1] if i else None)
    builder.finish()
    return TelegramPart("".join(builder.text), tuple(sorted(
        builder.entities, key=lambda e: (e.offset, -e.length))))


def allowed(frames: tuple[Frame, ...]) -> tuple[Frame, ...]:
    """The frames Telegram lets a run keep: a code entity may sit in no other but a quote.

    The Bot API allows no entity inside code, code inside no style, and no link around
    code: code in a link shows as link text, code in bold stays code, not bold.
    """
    kinds = {frame.kind for frame in frames}
    if "code" not in kinds:
        return frames
    if "link" in kinds:
        return tuple(f for f in frames if f.kind != "code")
    return tuple(f for f in frames if f.kind == "code")


class _Builder:
    def __init__(self) -> None:
        self.text: list[str] = []
        self.size = 0
        self.entities: list[Entity] = []
        self.open: dict[int, tuple[Frame, int]] = {}
        self.quote: int | None = None  # where the current blockquote started
        self.pre: tuple[int, int, str] | None = None  # (block, start, language)
        self.line_end = 0

    def add(self, text: str) -> None:
        self.text.append(text)
        self.size += utf16_len(text)

    def entity(self, kind: str, start: int, end: int, url: str | None = None,
               language: str | None = None) -> None:
        if end > start:  # Telegram refuses empty entities
            self.entities.append(Entity(kind, start, end - start, url, language))

    def line(self, line: Line, before: Line | None) -> None:
        if before is not None:
            self.add("\n" * line.gap)
        text = line.code is None  # code keeps no indentation: `pre` shows it as a block
        self.add(line.lead if text else "")  # before the quote starts: it is outside of it
        self.blocks(line)
        self.add(line.marker if text else "")
        for run in line.runs:
            frames = allowed(run.frames)
            self.close({f.ident for f in frames})
            for frame in frames:
                self.open.setdefault(frame.ident, (frame, self.size))
            self.add(run.text)
        self.close(set())
        self.line_end = self.size

    def blocks(self, line: Line) -> None:
        """Open or close the blockquote and pre entities that span whole lines."""
        if self.pre is not None and self.pre[0] != (line.block if line.code is not None else -1):
            self.entity("pre", self.pre[1], self.line_end, language=self.pre[2] or None)
            self.pre = None
        if self.quote is not None and not line.quote:
            self.entity("blockquote", self.quote, self.line_end)
            self.quote = None
        if line.quote and self.quote is None:
            self.quote = self.size
        if line.code is not None and self.pre is None:
            self.pre = (line.block, self.size, line.code)

    def close(self, keep: set[int]) -> None:
        for ident in [i for i in self.open if i not in keep]:
            frame, start = self.open.pop(ident)
            url = frame.url if frame.kind == "link" else None
            self.entity(_TYPES[frame.kind], start, self.size, url)

    def finish(self) -> None:
        self.blocks(Line(()))
