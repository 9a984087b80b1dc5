"""The answer as a JSON tree for the web page, from the same parse every platform renders."""

from __future__ import annotations

from typing import Any

from adapters.render import parse
from adapters.render.tree import (
    Block,
    Break,
    Code,
    CodeBlock,
    Heading,
    Inline,
    Link,
    ListBlock,
    Paragraph,
    Quote,
    Rule,
    Styled,
    Table,
    Text,
)

Node = dict[str, Any]
# Short tags keep a long answer's tree small on the wire; markdown.js knows them.
_STYLE = {"bold": "b", "italic": "i", "strike": "s", "underline": "u"}


def web(markdown: str) -> list[Node]:
    """Blocks of `{"t": kind, ...}`; inline text is a plain string, never markup."""
    return [block(b) for b in parse(markdown).blocks]


def block(node: Block) -> Node:
    if isinstance(node, Paragraph):
        return {"t": "p", "c": inlines(node.inlines)}
    if isinstance(node, Heading):
        return {"t": "h", "level": node.level, "c": inlines(node.inlines)}
    if isinstance(node, CodeBlock):
        return {"t": "pre", "lang": node.language, "text": node.text}
    if isinstance(node, Quote):
        return {"t": "quote", "c": [block(b) for b in node.blocks]}
    if isinstance(node, ListBlock):
        return {"t": "list", "start": node.start, "tight": node.tight,
                "items": [[block(b) for b in item] for item in node.items]}
    if isinstance(node, Table):
        return {"t": "table", "align": list(node.align), "head": cells(node.header),
                "rows": [cells(row) for row in node.rows]}
    assert isinstance(node, Rule)
    return {"t": "hr"}


def cells(row: tuple[tuple[Inline, ...], ...]) -> list[list[str | Node]]:
    return [inlines(cell) for cell in row]


def inlines(nodes: tuple[Inline, ...]) -> list[str | Node]:
    return [inline(n) for n in nodes]


def inline(node: Inline) -> str | Node:
    if isinstance(node, Text):
        return node.text
    if isinstance(node, Code):
        return {"t": "code", "text": node.text}
    if isinstance(node, Styled):
        return {"t": _STYLE[node.style], "c": inlines(node.children)}
    if isinstance(node, Link):  # the parser only keeps http(s) and mailto addresses
        return {"t": "a", "href": node.url, "c": inlines(node.children)}
    assert isinstance(node, Break)
    return {"t": "br"}
