"""Markup renderers (Discord Markdown, Slack Markdown, Slack mrkdwn) from laid-out lines."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from adapters.render.layout import Frame, Line, Run

_URL = re.compile(r"(https?://[^\s<>]*[^\s<>.,;:!?'\")\]*_~])")
_LONGEST_TICKS = re.compile(r"`+")
_ORDERED = re.compile(r"\d+\. ")
Token = tuple[str, str | Frame]  # ("open" | "close", frame) or ("text" | "raw", text)


@dataclass(frozen=True, slots=True)
class Syntax:
    """What differs between the markup dialects."""

    marks: dict[str, tuple[str, str]]  # frame kind -> opening and closing marks
    link: Callable[[str], tuple[str, str]]  # url -> marks around the label
    code_span: Callable[[str], str]
    escape: Callable[[str, bool], str]  # text, whether it starts the line
    code_line: Callable[[str], str]
    neutralise: Callable[[str], str]  # applied last, to the whole message
    flat_links: bool = False  # link labels cannot hold formatting (mrkdwn)
    fence_language: bool = True  # mrkdwn would show the language as a line of code


def render(lines: Sequence[Line], syntax: Syntax) -> str:
    """One message from laid-out lines: fences and marks always balanced."""
    out: list[str] = []
    fences = _fences(lines)
    for i, line in enumerate(lines):
        before = lines[i - 1] if i else None
        if before is not None and before.code is not None and not _same_block(before, line):
            out.append(_prefix(before) + fences[before.block])
        if before is not None and (line.gap > 1 or _needs_blank(before, line)):
            out.append(_blank(before, line))
        if line.code is not None:
            fence = fences[line.block] + (line.code if syntax.fence_language else "")
            if before is not None and not before.runs and before.marker.strip() \
                    and before.code is None and line.gap == 1:
                out[-1] += fence  # `- ```py`: an empty item could not interrupt a paragraph
            elif not _same_block(before, line):
                out.append(_prefix(line) + fence)
            out.append(_prefix(line) + syntax.code_line(line.text))
        else:
            out.append(_prefix(line) + inline(line.runs, syntax))
    if lines and lines[-1].code is not None:
        out.append(_prefix(lines[-1]) + fences[lines[-1].block])
    return syntax.neutralise("\n".join(out))


def _needs_blank(before: Line, line: Line) -> bool:
    # An ordered item numbered other than 1 cannot interrupt a paragraph: it would read as text.
    return before.code is None and not before.marker and bool(_ORDERED.match(line.marker))


def _same_block(before: Line | None, line: Line) -> bool:
    return before is not None and before.code is not None and line.code is not None \
        and before.block == line.block


def _quote(depth: int) -> str:
    return "> " * depth


def _blank(before: Line, line: Line) -> str:
    """A blank line between two lines, inside the quote they share (if any)."""
    depth = min(before.quote, line.quote)
    return (" " * len(line.lead) + _quote(depth)).rstrip() if depth else ""


def _prefix(line: Line) -> str:
    return line.lead + _quote(line.quote) + line.marker


def _fences(lines: Sequence[Line]) -> dict[int, str]:
    # One backtick more than the longest run inside, so code holding ``` cannot end it early.
    fences: dict[int, str] = {}
    for line in lines:
        if line.code is not None:
            ticks = max((len(m) + 1 for m in _LONGEST_TICKS.findall(line.text)), default=3)
            fences[line.block] = max(fences.get(line.block, "```"), "`" * ticks, key=len)
    return fences


def inline(runs: tuple[Run, ...], syntax: Syntax) -> str:
    """Runs as marked-up text: marks opened and closed in tree order, so always nested."""
    tokens = _hug(_tokens(runs, syntax))
    out: list[str] = []
    for i, (kind, value) in enumerate(tokens):
        if isinstance(value, Frame):
            out.append(_mark(value, syntax, kind == "open"))
        elif kind == "raw":
            # Two code spans side by side would read as one: a zero-width space parts them.
            out.append(("\u200b" if out and out[-1].endswith("`") else "") + value)
        else:
            text = _escape_urls(value, syntax, at_start=i == 0)
            out.append(_before_link(text, tokens[i + 1:i + 2], syntax))
    return "".join(out)


def _before_link(text: str, after: list[Token], syntax: Syntax) -> str:
    # `!` right before `[label](url)` would turn the link into an image.
    opens_link = bool(after) and after[0][0] == "open" and isinstance(after[0][1], Frame) \
        and after[0][1].kind == "link" and syntax.link("")[0] == "["
    return text[:-1] + "\\!" if opens_link and text.endswith("!") else text


def _tokens(runs: tuple[Run, ...], syntax: Syntax) -> list[Token]:
    tokens: list[Token] = []
    stack: list[Frame] = []
    for run in runs:
        frames, code = _frames(run, syntax)
        keep = 0
        while keep < min(len(stack), len(frames)) and stack[keep] == frames[keep]:
            keep += 1
        tokens.extend(("close", f) for f in reversed(stack[keep:]))
        tokens.extend(("open", f) for f in frames[keep:])
        stack = list(frames)
        tokens.append(("raw", syntax.code_span(run.text)) if code else ("text", run.text))
    tokens.extend(("close", f) for f in reversed(stack))
    return tokens


def _frames(run: Run, syntax: Syntax) -> tuple[tuple[Frame, ...], bool]:
    """The marks to write around a run, and whether it is a code span."""
    frames = [f for f in run.frames if f.kind != "code"]
    code = len(frames) < len(run.frames)
    links = [i for i, f in enumerate(frames) if f.kind == "link"]
    if syntax.flat_links and links:  # Slack shows a link label as plain text
        return tuple(frames[:links[0] + 1]), False
    return tuple(frames), code


def _hug(tokens: list[Token]) -> list[Token]:
    """Move spaces outside marks (`**a **` is no bold) and drop marks around nothing."""
    out = list(tokens)
    i = 0
    while i < len(out) - 1:
        new = _hug_pair(out[i], out[i + 1])
        if new is None:
            i += 1
            continue
        out[i:i + 2] = new
        i = max(i - 1, 0)
    return out


def _hug_pair(a: Token, b: Token) -> list[Token] | None:
    """The replacement for two neighbouring tokens, or None to keep them."""
    if a[0] == "open" and b == ("close", a[1]):
        return []
    if a[0] == "open" and b[0] == "text" and str(b[1])[:1].isspace():
        rest = str(b[1]).lstrip()
        return [("text", str(b[1])[:len(str(b[1])) - len(rest)]), a, *_text(rest)]
    if a[0] == "text" and b[0] == "close" and str(a[1])[-1:].isspace():
        body = str(a[1]).rstrip()
        return [*_text(body), b, ("text", str(a[1])[len(body):])]
    return None


def _text(text: str) -> list[Token]:
    return [("text", text)] if text else []


def _mark(frame: Frame, syntax: Syntax, opening: bool) -> str:
    if frame.kind == "link":
        marks = syntax.link(frame.url)
    else:
        marks = syntax.marks.get(frame.kind, ("", ""))
    return marks[0] if opening else marks[1]


def _escape_urls(text: str, syntax: Syntax, *, at_start: bool) -> str:
    # Bare URLs stay as they are, so the client still recognises and opens them.
    parts = _URL.split(text)
    return "".join(part if i % 2 else syntax.escape(part, at_start and i == 0)
                   for i, part in enumerate(parts))


def code_span(text: str) -> str:
    """A CommonMark code span that holds any text, backticks included."""
    ticks = "`" * (max((len(m) for m in _LONGEST_TICKS.findall(text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or (
        text.startswith(" ") and text.endswith(" ") and text.strip()) else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"
