"""Our own small Markdown tree: block and inline nodes, independent of any parser or platform."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Style = Literal["bold", "italic", "strike", "underline"]
Align = Literal["left", "right", "center"]


@dataclass(frozen=True, slots=True)
class Text:
    """Literal text (never markup, whatever characters it holds)."""

    text: str


@dataclass(frozen=True, slots=True)
class Code:
    """An inline code span."""

    text: str


@dataclass(frozen=True, slots=True)
class Styled:
    """Bold, italic, strikethrough or underline around other inline nodes."""

    style: Style
    children: tuple[Inline, ...]


@dataclass(frozen=True, slots=True)
class Link:
    """A link with a label; `url` is already checked to be an absolute web or mail address."""

    url: str
    children: tuple[Inline, ...]


@dataclass(frozen=True, slots=True)
class Break:
    """A line break inside a paragraph (soft or hard: chat clients show both as a new line)."""


Inline = Text | Code | Styled | Link | Break


@dataclass(frozen=True, slots=True)
class Paragraph:
    inlines: tuple[Inline, ...]


@dataclass(frozen=True, slots=True)
class Heading:
    level: int
    inlines: tuple[Inline, ...]


@dataclass(frozen=True, slots=True)
class CodeBlock:
    """A fenced code block; `language` is empty or a short, safe identifier."""

    language: str
    text: str


@dataclass(frozen=True, slots=True)
class Quote:
    blocks: tuple[Block, ...]


@dataclass(frozen=True, slots=True)
class ListBlock:
    """A bullet list (`start` None) or an ordered list starting at `start`."""

    start: int | None
    items: tuple[tuple[Block, ...], ...]
    tight: bool


@dataclass(frozen=True, slots=True)
class Table:
    header: tuple[tuple[Inline, ...], ...]
    rows: tuple[tuple[tuple[Inline, ...], ...], ...]
    align: tuple[Align, ...]


@dataclass(frozen=True, slots=True)
class Rule:
    """A thematic break (`---`)."""


Block = Paragraph | Heading | CodeBlock | Quote | ListBlock | Table | Rule


@dataclass(frozen=True, slots=True)
class Document:
    blocks: tuple[Block, ...]


def plain_inline(nodes: tuple[Inline, ...]) -> str:
    """The text a reader sees in inline nodes, formatting dropped."""
    out: list[str] = []
    for node in nodes:
        if isinstance(node, Text | Code):
            out.append(node.text)
        elif isinstance(node, Break):
            out.append("\n")
        else:
            out.append(plain_inline(node.children))
    return "".join(out)
