"""Where a natively streamed message ends: at a paragraph or code-block boundary when one fits."""

from __future__ import annotations

from collections.abc import Iterator

from adapters.textsplit import FENCE

# Slack caps one `markdown_text` at 12,000 characters; a message rolls over before that.
STREAM_CAP = 11_000
# Past this a message takes only whole paragraphs and code blocks, so that it can end at one.
SOFT_CAP = 8_000
_ROOM = STREAM_CAP - len(FENCE) - 1  # leaves room to close a code block cut in two


def _line_ends(text: str) -> Iterator[tuple[int, bool]]:
    """(position after each complete line, whether a paragraph or code block ends there)."""
    pos, in_code = 0, False
    for line in text.split("\n")[:-1]:
        pos += len(line) + 1
        fence = line.lstrip().startswith(FENCE)
        in_code ^= fence
        yield pos, not in_code and (fence or not line.strip())


def last_block(text: str) -> int:
    """The end of the last whole paragraph or code block in `text` (0 when none ended)."""
    return max((pos for pos, block in _line_ends(text) if block), default=0)


def cut(message: str, floor: int) -> int:
    """Where a too-long message ends, at `floor` (what was shown) or later: block, line, word."""
    ends = list(_line_ends(message[:_ROOM]))
    for blocks_only in (True, False):
        fits = [pos for pos, block in ends if pos >= floor and (block or not blocks_only)]
        if fits:
            return fits[-1]
    space = message.rfind(" ", max(floor - 1, 0), _ROOM)
    return space + 1 if space >= 0 else max(_ROOM, floor)


def open_fence(text: str) -> str:
    """The opening line of a code block left open at the end of `text`, or ""."""
    opener = ""
    for line in text.split("\n")[:-1]:
        if line.lstrip().startswith(FENCE):
            opener = "" if opener else line.strip()
    return opener
