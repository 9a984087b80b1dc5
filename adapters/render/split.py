"""Split laid-out lines into parts that fit: between blocks, then lines, words, graphemes."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace

from adapters.render.layout import Chunk, Line, Run

Fits = Callable[[Sequence[Line]], bool]
# Characters that belong to the grapheme before them: a cut never lands just before one.
_JOINERS = frozenset("\u200d\ufe0e\ufe0f\u20e3")


def split(chunks: list[Chunk], fits: Fits) -> list[list[Line]]:
    """Greedy parts, each accepted by `fits` (the platform renders it and measures)."""
    units = list(_units(chunks, fits))
    parts: list[list[Line]] = []
    start = 0
    while start < len(units):
        count = _most_units(units, start, fits)
        parts.append([line for unit in units[start:start + count] for line in unit])
        start += count
    return [dedent(part) for part in parts]


def _most_units(units: list[Sequence[Line]], start: int, fits: Fits) -> int:
    """How many units from `start` fit in one part (at least one, which fits alone).

    Galloping then bisecting keeps the renders per part logarithmic: adding a unit at a
    time would render the growing part again and again.
    """
    def ok(count: int) -> bool:
        return fits([line for unit in units[start:start + count] for line in unit])
    good, step = 1, 1
    while start + good < len(units) and ok(min(good + step, len(units) - start)):
        good, step = min(good + step, len(units) - start), step * 2
    bad = min(good + step, len(units) - start + 1)
    while bad - good > 1:
        mid = (good + bad) // 2
        good, bad = (mid, bad) if ok(mid) else (good, mid)
    return good


def dedent(lines: list[Line]) -> list[Line]:
    """Indentation a part can show on its own: no line deeper than the line before allows.

    A part may open inside a nested list. Its first line moves to the margin (Telegram trims
    leading spaces; four would make Markdown code), and each later line sits at most at the
    content column of the line before it, shallower lines keeping their distance.
    """
    out: list[Line] = []
    old_before = new_before = room = 0
    for line in lines:
        old = _indent(line)
        new = min(old, room)
        if old < old_before:
            new = min(new, max(new_before - (old_before - old), 0))
        out.append(_reindent(line, old, new) if new != old else line)
        old_before, new_before = old, new
        room = new + len(_outer(line)) - old
    return out


def _outer(line: Line) -> str:
    """What a quoted line has before its `>` (list indentation, maybe a bullet), else its marker."""
    return line.lead if line.quote else line.marker


def _indent(line: Line) -> int:
    return len(_outer(line)) - len(_outer(line).lstrip(" "))


def _reindent(line: Line, old: int, new: int) -> Line:
    if line.quote:
        return replace(line, lead=" " * new + line.lead[old:])
    return replace(line, marker=" " * new + line.marker[old:])


def _units(chunks: list[Chunk], fits: Fits) -> Iterator[Sequence[Line]]:
    """Whole chunks when they fit alone, else their lines, else pieces of a line."""
    for chunk in chunks:
        if fits(chunk):
            yield chunk
            continue
        yield from _line_units(chunk, fits)


def _line_units(chunk: Chunk, fits: Fits) -> Iterator[Sequence[Line]]:
    """Lines (or their pieces), a bare item marker kept with the code block it opens."""
    marker: list[Line] = []
    for line in chunk:
        if not line.runs and line.code is None and line.marker.strip():
            yield from [marker] if marker else []
            marker = [line]
            continue
        pieces = [[line]] if fits([line]) else [[piece] for piece in cut_line(line, fits)]
        if marker and fits([*marker, *pieces[0]]):
            pieces[0] = [*marker, *pieces[0]]
        elif marker:
            yield marker
        marker = []
        yield from pieces
    yield from [marker] if marker else []


def cut_line(line: Line, fits: Fits) -> list[Line]:
    """A line too long for one part, cut at spaces (or between graphemes) into lines that fit."""
    text = line.text
    pieces: list[Line] = []
    start = 0
    while start < len(text):
        def fits_to(end: int, at: int = start) -> bool:
            return fits([_piece(line, at, end, first=not pieces)])
        words = _word_ends(text, start)
        end = _largest(_outside_spans(line, words), fits_to) or _largest(words, fits_to) \
            or _largest(_grapheme_ends(text, start), fits_to)
        if end is None:
            raise ValueError("limit too small for a single character of this line")
        pieces.append(_piece(line, start, end, first=not pieces))
        start = end
        while start < len(text) and text[start].isspace():
            start += 1
    return pieces


def _word_ends(text: str, start: int) -> list[int]:
    ends = [i for i in range(start + 1, len(text)) if text[i].isspace() and
            not text[i - 1].isspace()]
    return [*ends, len(text)]


def _outside_spans(line: Line, ends: list[int]) -> list[int]:
    """The ends that cut no link or code span (cutting one makes two, each still valid)."""
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    offset = 0
    for run in line.runs:
        for frame in run.frames:
            if frame.kind in ("link", "code"):
                first.setdefault(frame.ident, offset)
                last[frame.ident] = offset + len(run.text)
        offset += len(run.text)
    return [e for e in ends if not any(first[i] < e < last[i] for i in first)]


def _grapheme_ends(text: str, start: int) -> list[int]:
    return [i for i in range(start + 1, len(text) + 1) if i == len(text) or _boundary(text, i)]


def _boundary(text: str, i: int) -> bool:
    # Python strings hold code points, so a surrogate pair is never cut; this also keeps
    # combining marks, variation selectors and ZWJ emoji sequences in one piece.
    after, before = text[i], text[i - 1]
    if after in _JOINERS or before == "\u200d" or unicodedata.combining(after):
        return False
    return not 0x1F3FB <= ord(after) <= 0x1F3FF  # skin tone modifiers


def _largest(ends: list[int], ok: Callable[[int], bool]) -> int | None:
    """The largest end accepted by `ok` (which holds for a prefix of `ends`), by bisection."""
    low, high, best = 0, len(ends) - 1, None
    while low <= high:
        mid = (low + high) // 2
        if ok(ends[mid]):
            best, low = ends[mid], mid + 1
        else:
            high = mid - 1
    return best


def _piece(line: Line, start: int, end: int, *, first: bool) -> Line:
    """Characters start..end of the line, styles kept; only the first piece keeps the marker."""
    runs: list[Run] = []
    offset = 0
    for run in line.runs:
        lo, hi = max(start, offset), min(end, offset + len(run.text))
        if lo < hi:
            runs.append(Run(run.text[lo - offset:hi - offset], run.frames))
        offset += len(run.text)
    if runs and line.code is None:  # a cut at a space leaves no dangling spaces
        runs[-1] = Run(runs[-1].text.rstrip(), runs[-1].frames)
    # Later pieces stay inside their list item (indented), but never repeat a heading's marks.
    marker = line.marker if first or line.code is not None else \
        " " * len(line.marker) * bool(line.marker.strip(" #"))
    lead = line.lead if first else " " * len(line.lead)  # a bullet before `>` shows once
    return replace(line, runs=tuple(r for r in runs if r.text), marker=marker, lead=lead,
                   gap=line.gap if first else 1)
