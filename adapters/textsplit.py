"""Split long text under a size limit at paragraph and code-block boundaries, fences balanced."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from adapters.render import utf16_len

__all__ = ["FENCE", "split", "utf16_len"]
Length = Callable[[str], int]
FENCE = "```"


@dataclass(frozen=True, slots=True)
class _Unit:
    """A paragraph, or a fenced code block (`fence` is its opening line), and what precedes it."""

    text: str
    sep: str
    fence: str | None = None


def split(text: str, limit: int, length: Length = len) -> list[str]:
    """Pieces of `text`, each at most `limit` by `length`; a split code block is re-fenced.

    `length` must be additive over concatenation (like `len` or `utf16_len`).
    """
    if limit < 16:
        raise ValueError("limit too small to keep code fences")
    pieces: list[str] = []
    for unit in _units(text):
        for part in _fit(unit, limit, length):
            joined = pieces[-1] + part.sep + part.text if pieces else part.text
            if pieces and length(joined) <= limit:
                pieces[-1] = joined
            else:
                pieces.append(part.text)
    return [p for p in pieces if p.strip()] or ([text] if text.strip() else [])


def _units(text: str) -> list[_Unit]:
    """Paragraphs and whole code blocks, each with the newlines that separate it from the last."""
    units: list[_Unit] = []
    lines: list[str] = []
    fence: str | None = None
    blanks = 0

    def close() -> None:
        nonlocal lines, blanks
        if lines:
            units.append(_Unit("\n".join(lines), "\n" * (blanks + 1) if units else "", fence))
            lines, blanks = [], 0

    for line in text.split("\n"):
        if fence is not None:
            lines.append(line)
            if line.strip() == FENCE:
                close()
                fence = None
        elif line.lstrip().startswith(FENCE):
            close()
            fence, lines = line.strip(), [line]
        elif line.strip():
            lines.append(line)
        else:
            close()
            blanks += 1 if units else 0
    if fence is not None and lines:  # an unterminated block (a cut-off answer): close it
        lines.append(FENCE)
    close()
    return units


def _fit(unit: _Unit, limit: int, length: Length) -> list[_Unit]:
    """The unit itself when it fits; otherwise smaller units, each code piece fenced again."""
    if length(unit.text) <= limit:
        return [unit]
    if unit.fence is None:
        parts = _chop(unit.text, limit, length, ("\n", " "))
        return [_Unit(p, unit.sep if i == 0 else "\n") for i, p in enumerate(parts)]
    body = unit.text.split("\n")[1:-1]
    room = limit - length(unit.fence) - length(FENCE) - 2
    parts = _chop("\n".join(body), room, length, ("\n",))
    return [_Unit(f"{unit.fence}\n{p}\n{FENCE}", unit.sep if i == 0 else "\n", unit.fence)
            for i, p in enumerate(parts)]


def _chop(text: str, limit: int, length: Length, seps: tuple[str, ...]) -> list[str]:
    """Greedy pieces under `limit`, cut at the first separator that works, else anywhere."""
    if length(text) <= limit:
        return [text]
    if not seps:
        return _hard(text, limit, length)
    sep, rest = seps[0], seps[1:]
    pieces: list[str] = []
    for word in text.split(sep):
        for part in _chop(word, limit, length, rest):
            joined = pieces[-1] + sep + part if pieces else part
            if pieces and length(joined) <= limit:
                pieces[-1] = joined
            else:
                pieces.append(part)
    return pieces


def _hard(text: str, limit: int, length: Length) -> list[str]:
    pieces, current, size = [], "", 0
    for char in text:
        width = length(char)
        if current and size + width > limit:
            pieces.append(current)
            current, size = "", 0
        current, size = current + char, size + width
    return [*pieces, current] if current else pieces
