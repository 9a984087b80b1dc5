"""Lay the tree out as styled lines: the shared shape every platform renders and splits."""

from __future__ import annotations

import itertools
import unicodedata
from dataclasses import dataclass, replace

from adapters.render.tree import (
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
    plain_inline,
)

RULE = "———"


@dataclass(frozen=True, slots=True)
class Frame:
    """One formatting node of the tree (bold, italic, strike, underline, code, link).

    `ident` is unique per node, so a run of text knows exactly which nodes it sits in and
    renderers can open and close them properly nested, even after a split.
    """

    kind: str
    ident: int
    url: str = ""


@dataclass(frozen=True, slots=True)
class Run:
    text: str
    frames: tuple[Frame, ...]


@dataclass(frozen=True, slots=True)
class Line:
    """One output line: a plain marker (bullet, number, heading marks) then styled runs."""

    runs: tuple[Run, ...]
    marker: str = ""
    quote: int = 0
    lead: str = ""  # list indentation outside the quote marks (a quote inside a list item)
    code: str | None = None  # language of the code block this line is in ("" for none)
    block: int = 0  # which code block: two adjacent code blocks must stay two
    gap: int = 1  # newlines before this line when another line precedes it

    @property
    def text(self) -> str:
        return "".join(run.text for run in self.runs)


Chunk = tuple[Line, ...]


@dataclass(frozen=True, slots=True)
class Flavor:
    """How a platform writes headings and bullets (the rest is up to its renderer)."""

    bullet: str
    heading_marks: int  # levels up to this are written as `#` marks; deeper ones as styles
    heading_styles: tuple[str, ...]


def layout(doc: Document, flavor: Flavor) -> list[Chunk]:
    """Chunks (top-level blocks, top-level list items) of lines, in order."""
    maker = _Layout(flavor)
    chunks: list[Chunk] = []
    for block in doc.blocks:
        first, *rest = [chunk for chunk in maker.chunks(block) if chunk] or [()]
        if first:  # a block follows the one before it after a blank line
            chunks.append((replace(first[0], gap=2), *first[1:]))
        chunks.extend(rest)
    return chunks


class _Layout:
    def __init__(self, flavor: Flavor) -> None:
        self.flavor = flavor
        self.ids = itertools.count(1)

    def chunks(self, block: Block) -> list[Chunk]:
        # Top-level list items are chunks of their own: the splitter prefers cutting there.
        if isinstance(block, ListBlock):
            return [tuple(lines) for lines in self.items(block, "")]
        return [tuple(self.block(block, ""))]

    def block(self, block: Block, indent: str) -> list[Line]:
        if isinstance(block, Paragraph):
            return self.inline_lines(block.inlines, (), indent)
        if isinstance(block, Heading):
            return self.heading(block, indent)
        if isinstance(block, CodeBlock):
            return self.code(block.text.split("\n"), block.language, indent)
        if isinstance(block, Quote):
            return [_quoted(line, indent) for line in self.blocks(block.blocks, indent, 2)]
        if isinstance(block, ListBlock):
            return [line for item in self.items(block, indent) for line in item]
        if isinstance(block, Table):
            return self.code(table_lines(block), "", indent)
        assert isinstance(block, Rule)
        return [Line((Run(RULE, ()),), indent)]

    def blocks(self, blocks: tuple[Block, ...], indent: str, gap: int) -> list[Line]:
        out: list[Line] = []
        for block in blocks:
            lines = self.block(block, indent)
            if lines and out:
                lines[0] = replace(lines[0], gap=gap)
            out.extend(lines)
        return out

    def items(self, block: ListBlock, indent: str) -> list[list[Line]]:
        gap = 1 if block.tight else 2
        out: list[list[Line]] = []
        for n, item in enumerate(block.items):
            mark = self.flavor.bullet + " " if block.start is None else f"{block.start + n}. "
            inner = indent + " " * len(mark)
            lines = self.blocks(item, inner, gap) or [Line((), inner)]
            if lines[0].code is not None:  # an item opening with code: its marker gets a line
                lines.insert(0, Line((), inner))
            lines[0] = _marked(lines[0], indent + mark, len(inner))
            if out:
                lines[0] = replace(lines[0], gap=gap)
            out.append(lines)
        return out

    def heading(self, block: Heading, indent: str) -> list[Line]:
        if block.level <= self.flavor.heading_marks:
            return self.inline_lines(block.inlines, (), indent + "#" * block.level + " ")
        frames = tuple(Frame(kind, next(self.ids)) for kind in self.flavor.heading_styles)
        return self.inline_lines(block.inlines, frames, indent)

    def code(self, texts: list[str], language: str, indent: str) -> list[Line]:
        # The marker of a code line is only its list indentation (markup needs it, pre not).
        ident = next(self.ids)
        return [Line((Run(t, ()),) if t else (), indent, code=language, block=ident)
                for t in texts]

    def inline_lines(self, nodes: tuple[Inline, ...], frames: tuple[Frame, ...],
                     marker: str) -> list[Line]:
        rows: list[list[Run]] = [[]]
        self.runs(nodes, frames, rows)
        first, rest = marker, " " * len(marker) if marker.strip(" #") else marker.rstrip("# ")
        return [Line(tuple(row), first if i == 0 else rest) for i, row in enumerate(rows)]

    def runs(self, nodes: tuple[Inline, ...], frames: tuple[Frame, ...],
             rows: list[list[Run]]) -> None:
        """Append runs to the last row; a break starts a new row (frames carry over)."""
        for node in nodes:
            if isinstance(node, Text):
                rows[-1].append(Run(node.text, frames))
            elif isinstance(node, Code):
                rows[-1].append(Run(node.text, (*frames, Frame("code", next(self.ids)))))
            elif isinstance(node, Break):
                rows.append([])
            elif isinstance(node, Link) and (_autolink(node) or _in_link(frames)):
                # Clients link a bare URL themselves; a link in a link (an image in a link)
                # cannot be written: the outer one wins.
                self.runs(node.children, frames, rows)
            elif isinstance(node, Link):
                frame = Frame("link", next(self.ids), node.url)
                self.runs(node.children, (*frames, frame), rows)
            else:
                assert isinstance(node, Styled)
                self.runs(node.children, self.styled(node.style, frames), rows)

    def styled(self, style: str, frames: tuple[Frame, ...]) -> tuple[Frame, ...]:
        # A style inside the same style (`~~a ~~b~~~~`) adds nothing a reader could see.
        if any(frame.kind == style for frame in frames):
            return frames
        return (*frames, Frame(style, next(self.ids)))


def _marked(line: Line, mark: str, inner: int) -> Line:
    """The first line of a list item, its bullet or number in place of the item's indentation."""
    if line.quote:  # an item opening with a quote: `- > text`
        return replace(line, lead=mark + line.lead[inner:])
    return replace(line, marker=mark + line.marker[inner:])


def _quoted(line: Line, indent: str) -> Line:
    """The line one quote deeper; the list indentation around the quote goes before its `>`."""
    if line.quote:  # an inner quote already moved it
        return replace(line, quote=line.quote + 1)
    return replace(line, quote=1, lead=indent, marker=line.marker[len(indent):])


def _in_link(frames: tuple[Frame, ...]) -> bool:
    return any(frame.kind == "link" for frame in frames)


def _autolink(link: Link) -> bool:
    label = plain_inline(link.children)
    return link.url in (label, "mailto:" + label)


def width(text: str) -> int:
    """Columns a monospace font gives `text` (wide East Asian characters and emoji take 2)."""
    cols = 0
    for char in text:
        if unicodedata.combining(char) or char in "\u200d\ufe0f":
            continue
        cols += 2 if unicodedata.east_asian_width(char) in "WF" else 1
    return cols


def table_lines(table: Table) -> list[str]:
    """A table as aligned monospace lines: header, a dash rule, rows (formatting dropped)."""
    rows = [[plain_inline(c).replace("\n", " ") for c in row] for row in (table.header,
                                                                          *table.rows)]
    count = max(len(row) for row in rows)
    rows = [row + [""] * (count - len(row)) for row in rows]
    widths = [max(width(row[c]) for row in rows) for c in range(count)]
    align = [*table.align, *["left"] * count][:count]
    cells = [[_pad(cell, w, a) for cell, w, a in zip(row, widths, align, strict=True)]
             for row in rows]
    lines = ["  ".join(row).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return lines


def _pad(cell: str, cols: int, align: str) -> str:
    room = cols - width(cell)
    if align == "right":
        return " " * room + cell
    if align == "center":
        return " " * (room // 2) + cell + " " * (room - room // 2)
    return cell + " " * room
