"""Parse model Markdown once (markdown-it-py: CommonMark, tables, strikethrough) into our tree."""

from __future__ import annotations

import re
from collections.abc import Callable

from markdown_it import MarkdownIt
from markdown_it.token import Token

from adapters.render.tree import (
    Align,
    Block,
    Break,
    Code,
    CodeBlock,
    Document,
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

# html off: raw HTML stays text. Indented code off: chat clients have no such thing, and a
# model's 4-space indented prose should stay prose.
_MD = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"]).disable("code")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_LANGUAGE = re.compile(r"^[\w+#.-]{1,30}$")
_SAFE_URL = re.compile(r"^(https?://|mailto:)[^\s<>]+$", re.IGNORECASE)
_STYLES = {"strong_open": "bold", "em_open": "italic", "s_open": "strike"}


def parse(markdown: str) -> Document:
    """The tree of a (possibly partial) Markdown answer; never raises on any input."""
    text = _CONTROL.sub("", markdown.replace("\r\n", "\n").replace("\r", "\n"))
    tokens = _MD.parse(text)
    blocks, _ = _blocks(tokens, 0, "")
    return Document(blocks)


def _blocks(tokens: list[Token], i: int, until: str) -> tuple[tuple[Block, ...], int]:
    """Blocks from tokens[i] up to the closing token named `until`; returns the index after it."""
    out: list[Block] = []
    while i < len(tokens) and tokens[i].type != until:
        block, i = _block(tokens, i)
        if block is not None:
            out.append(block)
    return tuple(out), i + 1


def _block(tokens: list[Token], i: int) -> tuple[Block | None, int]:
    tok = tokens[i]
    handler = _HANDLERS.get(tok.type)
    if handler is None:  # a stray or unknown token: skip it rather than fail on odd input
        return None, i + 1
    return handler(tokens, i)


def _paragraph(tokens: list[Token], i: int) -> tuple[Block | None, int]:
    inlines = _inline(tokens[i + 1])
    return (Paragraph(inlines) if inlines else None), i + 3


def _heading(tokens: list[Token], i: int) -> tuple[Block | None, int]:
    return Heading(int(tokens[i].tag[1]), _inline(tokens[i + 1])), i + 3


def _fence(tokens: list[Token], i: int) -> tuple[Block | None, int]:
    info = tokens[i].info.strip().split(" ")[0] if tokens[i].info else ""
    language = info if _LANGUAGE.match(info) else ""
    text = tokens[i].content.removesuffix("\n")
    return (CodeBlock(language, text) if text.strip() else None), i + 1


def _quote(tokens: list[Token], i: int) -> tuple[Block | None, int]:
    blocks, i = _blocks(tokens, i + 1, "blockquote_close")
    return (Quote(blocks) if blocks else None), i


def _list(tokens: list[Token], i: int) -> tuple[Block | None, int]:
    ordered = tokens[i].type == "ordered_list_open"
    start = int(str(tokens[i].attrs.get("start", 1))) if ordered else None
    close = "ordered_list_close" if ordered else "bullet_list_close"
    # markdown-it hides the paragraphs of tight lists; that is how we know a list is tight.
    tight = any(t.type == "paragraph_open" and t.hidden for t in tokens[i:i + 4])
    items: list[tuple[Block, ...]] = []
    i += 1
    while tokens[i].type != close:
        item, i = _blocks(tokens, i + 1, "list_item_close")
        if item:  # an empty item shows nothing and would read as a `-` heading underline
            items.append(item)
    return (ListBlock(start, tuple(items), tight) if items else None), i + 1


def _table(tokens: list[Token], i: int) -> tuple[Block | None, int]:
    rows: list[tuple[tuple[Inline, ...], ...]] = []
    align: list[Align] = []
    cells: list[tuple[Inline, ...]] = []
    i += 1
    while tokens[i].type != "table_close":
        tok = tokens[i]
        if tok.type in ("th_open", "td_open"):
            cells.append(_inline(tokens[i + 1]))
            if tok.type == "th_open":
                align.append(_align(str(tok.attrs.get("style", ""))))
        elif tok.type == "tr_close":
            rows.append(tuple(cells))
            cells = []
        i += 1
    return Table(rows[0], tuple(rows[1:]), tuple(align)), i + 1


def _align(style: str) -> Align:
    if style.endswith("right"):
        return "right"
    return "center" if style.endswith("center") else "left"


def _rule(tokens: list[Token], i: int) -> tuple[Block | None, int]:
    return Rule(), i + 1


Handler = Callable[[list[Token], int], tuple[Block | None, int]]
_HANDLERS: dict[str, Handler] = {
    "paragraph_open": _paragraph,
    "heading_open": _heading,
    "fence": _fence,
    "code_block": _fence,
    "blockquote_open": _quote,
    "bullet_list_open": _list,
    "ordered_list_open": _list,
    "table_open": _table,
    "hr": _rule,
}


def _inline(token: Token) -> tuple[Inline, ...]:
    nodes, _ = _inlines(token.children or [], 0)
    return nodes


def _inlines(tokens: list[Token], i: int) -> tuple[tuple[Inline, ...], int]:
    """Inline nodes from tokens[i] until a closing token; returns the index after that token."""
    out: list[Inline] = []
    while i < len(tokens) and tokens[i].nesting != -1:
        nodes, i = _one_inline(tokens, i)
        out.extend(nodes)
    return _merge_text(out), i + 1


def _one_inline(tokens: list[Token], i: int) -> tuple[tuple[Inline, ...], int]:
    tok = tokens[i]
    if tok.type in _STYLES:
        children, i = _inlines(tokens, i + 1)
        return (Styled(_STYLES[tok.type], children),), i  # type: ignore[arg-type]
    if tok.type == "link_open":
        children, i = _inlines(tokens, i + 1)
        return _link(str(tok.attrs.get("href", "")), children), i
    if tok.type == "image":
        src = str(tok.attrs.get("src", ""))
        alt = "".join(t.content for t in tok.children or []) or src
        return _link(src, (Text(alt),)), i + 1
    if tok.type in ("softbreak", "hardbreak"):
        return (Break(),), i + 1
    if tok.type == "code_inline":
        return (Code(tok.content),), i + 1
    return ((Text(tok.content),) if tok.content else ()), i + 1


def _link(url: str, children: tuple[Inline, ...]) -> tuple[Inline, ...]:
    # A link we could not send safely everywhere (relative, `!channel`, `tg:`) keeps its label.
    if _SAFE_URL.match(url) and children:
        return (Link(url, children),)
    return children


def _merge_text(nodes: list[Inline]) -> tuple[Inline, ...]:
    out: list[Inline] = []
    for node in nodes:
        if isinstance(node, Text) and out and isinstance(out[-1], Text):
            out[-1] = Text(out[-1].text + node.text)
        else:
            out.append(node)
    return tuple(out)
