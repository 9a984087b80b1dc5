"""One Markdown parse, rendered and split per platform: Telegram, Discord, Slack, plain text.

The model's Markdown is parsed once (markdown-it-py) into our tree (`tree.py`), laid out as
styled lines (`layout.py`), split on that shape (`split.py`) and rendered per platform
(`telegram.py`, `markup.py` + `dialects.py`). Every function here is pure.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from adapters.render import dialects, markup
from adapters.render import telegram as _telegram
from adapters.render.dialects import (
    DISCORD_LIMIT,
    SLACK_BLOCK_LIMIT,
    SLACK_TEXT_LIMIT,
    WORD_JOINER,
    ZERO_WIDTH_SPACE,
)
from adapters.render.layout import Flavor, Line, layout
from adapters.render.parse import parse
from adapters.render.split import split
from adapters.render.telegram import Entity, TelegramPart, utf16_len
from adapters.render.tree import Document

__all__ = [
    "DISCORD_LIMIT",
    "SLACK_BLOCK_LIMIT",
    "SLACK_TEXT_LIMIT",
    "TELEGRAM_LIMIT",
    "WORD_JOINER",
    "ZERO_WIDTH_SPACE",
    "Document",
    "Entity",
    "TelegramPart",
    "clipped",
    "discord",
    "parse",
    "plain",
    "slack_markdown",
    "slack_mrkdwn",
    "telegram",
    "utf16_len",
]

TELEGRAM_LIMIT = _telegram.LIMIT
Source = str | Document
T = TypeVar("T")


def telegram(source: Source, limit: int = TELEGRAM_LIMIT) -> list[TelegramPart]:
    """Messages of text + entities (no parse_mode), each at most `limit` UTF-16 units."""
    return _parts(source, _telegram.FLAVOR, _telegram.render,
                  lambda part: utf16_len(part.text), limit, lambda part: part.text)


def discord(source: Source, limit: int = DISCORD_LIMIT) -> list[str]:
    """Discord Markdown messages of at most `limit` characters, mentions made inert.

    Measured in UTF-16 units, never fewer than code points: within the limit however
    Discord counts (an emoji is one code point, two units).
    """
    return _markup(source, dialects.DISCORD_FLAVOR, dialects.DISCORD, limit, utf16_len)


def slack_markdown(source: Source, limit: int = SLACK_TEXT_LIMIT) -> list[str]:
    """Standard Markdown for Slack's `markdown_text` / `markdown` block, broadcasts made inert."""
    return _markup(source, dialects.SLACK_MARKDOWN_FLAVOR, dialects.SLACK_MARKDOWN, limit)


def slack_mrkdwn(source: Source, limit: int = SLACK_TEXT_LIMIT) -> list[str]:
    """Slack mrkdwn for surfaces that only take `text`, broadcasts made inert."""
    return _markup(source, dialects.MRKDWN_FLAVOR, dialects.MRKDWN, limit)


def clipped(text: str, limit: int) -> str:
    """Plain `text` as one message of at most `limit` UTF-16 units (a command's answer), cut
    short with "…" when longer; Python slices whole code points, so no pair is split."""
    if utf16_len(text) <= limit:
        return text
    while text and utf16_len(text) >= limit:  # room for the "…", one unit
        text = text[:-max(1, (utf16_len(text) + 1 - limit) // 2)]
    return text + "…"


def plain(source: Source) -> str:
    """What a reader sees with formatting dropped: Telegram's text layer, in one piece."""
    lines = [line for chunk in layout(_document(source), _telegram.FLAVOR) for line in chunk]
    return _telegram.render(lines).text


def _markup(source: Source, flavor: Flavor, syntax: markup.Syntax, limit: int,
            size: Callable[[str], int] = len) -> list[str]:
    return _parts(source, flavor, lambda lines: markup.render(lines, syntax), size, limit,
                  lambda text: text)


def _parts(source: Source, flavor: Flavor, render: Callable[[Sequence[Line]], T],
           size: Callable[[T], int], limit: int, text: Callable[[T], str]) -> list[T]:
    """Lay out, split so each rendered part measures at most `limit`, render each part."""
    chunks = layout(_document(source), flavor)
    parts = split(chunks, lambda lines: size(render(lines)) <= limit)
    rendered = [render(lines) for lines in parts]
    return [part for part in rendered if text(part).strip()]  # platforms refuse blank messages


def _document(source: Source) -> Document:
    return parse(source) if isinstance(source, str) else source
