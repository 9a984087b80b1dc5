"""Property checks of adapters.render over generated Markdown: limits, entities, nothing lost."""

from __future__ import annotations

import re
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters import render
from adapters.render import TelegramPart, utf16_len

SPECIAL = "<>&*_~`#|[]()!-+.\\="
WORD = st.text(alphabet="abcxyz" + SPECIAL + "😀é", min_size=1, max_size=10)
FIXED = st.sampled_from([
    "@everyone", "@here", "@channel", "<@123>", "<@&45>", "<#67>", "<@!89>", "<!channel>",
    "<!here>", "<!everyone>", "<@U123>", "<!subteam^S1>", "مرحبا بالعالم", "שלום עולם",
    "👍🏽", "👨‍👩‍👧", "e\u0301", "1.", "# no", "&amp;", "https://example.com/a_(b)_c",
    "w" * 130, "😀" * 70, "👨‍👩‍👧" * 20,  # words longer than a part: cut between graphemes
])
SPAN = st.one_of(
    WORD, FIXED,
    WORD.map(lambda w: f"**{w}**"), WORD.map(lambda w: f"*{w}*"),
    WORD.map(lambda w: f"~~{w}~~"), WORD.map(lambda w: f"***{w}***"),
    WORD.filter(lambda w: "`" not in w).map(lambda w: f"`{w}`"),
    WORD.map(lambda w: f"[{w}](https://example.com/{len(w)}_(x))"),
    st.just("<https://example.com/a_b>"), st.just("**open"), st.just("[x](!channel)"),
)
LINE = st.lists(SPAN, min_size=1, max_size=8).map(" ".join)
PARAGRAPH = st.lists(LINE, min_size=1, max_size=3).map("\n".join)
CODE = st.tuples(st.sampled_from(["", "py", "js"]), st.lists(LINE, max_size=6)).map(
    lambda t: f"```{t[0]}\n" + "\n".join(t[1]) + "\n```")
TABLE = st.lists(st.tuples(WORD, LINE), min_size=1, max_size=4).map(
    lambda rows: "| a | **b** |\n|---|--:|\n" + "\n".join(
        f"| {a.replace('|', '/')} | {b.replace('|', '/')} |" for a, b in rows))
ITEM = st.tuples(st.integers(0, 2), LINE).map(lambda t: "  " * t[0] + "- " + t[1])
BULLETS = st.lists(ITEM, min_size=1, max_size=6).map(
    lambda items: "- first\n" + "\n".join(items))
NUMBERED = st.lists(LINE, min_size=1, max_size=5).map(
    lambda lines: "\n".join(f"{i + 3}. {ln}" for i, ln in enumerate(lines)))
QUOTE = st.tuples(st.integers(1, 3), PARAGRAPH).map(
    lambda t: "\n".join("> " * t[0] + ln for ln in t[1].split("\n")))
HEADING = st.tuples(st.integers(1, 6), LINE).map(lambda t: "#" * t[0] + " " + t[1])
NESTED = st.tuples(LINE, LINE).flatmap(lambda t: st.sampled_from([
    f"- {t[0]}\n\n  ```py\n  {t[1]}\n  ```\n- {t[1]}",  # code inside an item
    f"1. ```\n   {t[0]}\n   ```\n2. {t[1]}",  # an item opening with code
    f"> - {t[0]}\n> - {t[1]}",  # a list in a quote
    f"> ```\n> {t[0]}\n> ```\n> {t[1]}",  # code in a quote
    f"- {t[0]}\n\n  > {t[1]}",  # a quote in an item
]))
BLOCK = st.one_of(PARAGRAPH, CODE, TABLE, BULLETS, NUMBERED, QUOTE, HEADING, NESTED,
                  st.just("---"))
# The last block may be cut off mid-stream: an unclosed fence or bold.
TAIL = st.sampled_from(["", "\n\n```py\nx = 1", "\n\n**unfinished", "\n\n> ```\ncode"])
MARKDOWN = st.tuples(st.lists(BLOCK, min_size=1, max_size=8), TAIL).map(
    lambda t: "\n\n".join(t[0]) + t[1])
LIMIT = st.integers(120, 700)
EXAMPLES = settings(max_examples=200, deadline=None)

INVISIBLE = re.compile("[\\s\u200b\u2060]")
DISCORD_PING = re.compile(r"@(everyone|here)|<@[!&]?\d|<#\d", re.IGNORECASE)
SLACK_PING = re.compile(r"<[!@]|@(channel|here|everyone)\b", re.IGNORECASE)
FENCE = re.compile(r"^(?:> ?)*(`{3,})([^`]*)$")  # an info string holds no backtick


def fences_balanced(text: str) -> bool:
    """Every code fence opened in the message is closed (a longer fence holds shorter ones)."""
    open_fence = ""
    for line in text.split("\n"):
        match = FENCE.match(line)
        if match and not open_fence:
            open_fence = match.group(1)
        elif match and len(match.group(1)) >= len(open_fence) and not match.group(2).strip():
            open_fence = ""
    return not open_fence


def squash(text: str, drop: str = "") -> str:
    """Text without whitespace, invisible joiners and the characters in `drop`."""
    return "".join(c for c in INVISIBLE.sub("", text) if c not in drop)


def check_entities(part: TelegramPart) -> None:
    size = utf16_len(part.text)
    spans = [(e.offset, e.offset + e.length, e.type) for e in part.entities]
    for start, end, _ in spans:
        assert 0 <= start < end <= size
    for a in spans:
        for b in spans:
            disjoint = a[1] <= b[0] or b[1] <= a[0]
            nested = (a[0] <= b[0] and b[1] <= a[1]) or (b[0] <= a[0] and a[1] <= b[1])
            assert disjoint or nested, (a, b)
            # The Bot API: nothing inside code or pre, and code or pre inside nothing but a
            # blockquote (equal spans count as inside).
            inside = a[0] <= b[0] and b[1] <= a[1] and a is not b
            assert not (inside and a[2] in ("code", "pre") and b[2] != "blockquote"), (a, b)
            assert not (inside and b[2] in ("code", "pre") and a[2] != "blockquote"), (a, b)


GLUED = re.compile("^[\u200d\ufe0f\u0300-\u036f\U0001F3FB-\U0001F3FF]")  # never a grapheme's tail


def check_telegram(markdown: str, limit: int) -> None:
    parts = render.telegram(markdown, limit)
    for before, after in pairwise(parts):  # a cut input may end in a ZWJ
        assert not GLUED.match(after.text) and not before.text.endswith("\u200d")
    for part in parts:
        assert 0 < utf16_len(part.text) <= limit
        assert part.text.strip()
        check_entities(part)
    assert squash("".join(p.text for p in parts)) == squash(render.plain(markdown))


# Reading our output back with CommonMark differs from Discord's and Slack's own readers in
# emphasis edge cases (`*_~`) and in how it numbers two ordered lists that end up adjacent.
LOOSE = "*_~0123456789"


def reparsed(parts: list[str]) -> str:
    """What a CommonMark reader shows for the parts: our own parser is the reference."""
    return "".join(render.plain(part) for part in parts)


def check_discord(markdown: str, limit: int) -> None:
    parts = render.discord(markdown, limit)
    for part in parts:
        assert 0 < utf16_len(part) <= limit
        assert not DISCORD_PING.search(part), part
        assert fences_balanced(part), part
    assert squash(reparsed(parts), LOOSE) == squash(render.plain(markdown), LOOSE)


def check_slack_markdown(markdown: str, limit: int) -> None:
    parts = render.slack_markdown(markdown, limit)
    for part in parts:
        assert 0 < len(part) <= limit
        assert not SLACK_PING.search(part), part
        assert fences_balanced(part), part
    assert squash(reparsed(parts), LOOSE) == squash(render.plain(markdown), LOOSE)


LINK = re.compile(r"<(?:https?://|mailto:)[^<>|]*\|([^<>]*)>")
QUOTE_MARKS = re.compile(r"^( *(?:(?:•|\d+\.) )*)(?:> ?)+", re.MULTILINE)  # `  3. • > text`


def unmrkdwn(text: str) -> str:
    """What Slack shows for our mrkdwn, marks dropped (enough to compare characters)."""
    text = QUOTE_MARKS.sub(r"\1", LINK.sub(r"\1", text))
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def check_slack_mrkdwn(markdown: str, limit: int) -> None:
    parts = render.slack_mrkdwn(markdown, limit)
    for part in parts:
        assert 0 < len(part) <= limit
        assert not SLACK_PING.search(part), part
        assert "<" not in LINK.sub("", part) and ">" not in QUOTE_MARKS.sub("", LINK.sub("", part))
        assert fences_balanced(part), part
    shown = "".join(unmrkdwn(p) for p in parts)
    assert squash(shown, "*_~`") == squash(render.plain(markdown), "*_~`")


@EXAMPLES
@given(MARKDOWN, LIMIT)
def test_telegram_parts_fit_nest_and_keep_every_character(markdown: str, limit: int) -> None:
    check_telegram(markdown, limit)


@EXAMPLES
@given(MARKDOWN, LIMIT)
def test_discord_parts_fit_keep_every_character_and_mention_nobody(markdown: str,
                                                                    limit: int) -> None:
    check_discord(markdown, limit)


@EXAMPLES
@given(MARKDOWN, LIMIT)
def test_slack_markdown_parts_fit_keep_every_character_and_broadcast_nothing(
        markdown: str, limit: int) -> None:
    check_slack_markdown(markdown, limit)


@EXAMPLES
@given(MARKDOWN, LIMIT)
def test_slack_mrkdwn_parts_fit_escape_and_broadcast_nothing(markdown: str, limit: int) -> None:
    check_slack_mrkdwn(markdown, limit)


@EXAMPLES
@given(MARKDOWN, st.data(), LIMIT)
def test_every_prefix_of_a_streamed_answer_renders_valid(markdown: str, data: st.DataObject,
                                                          limit: int) -> None:
    # Mid-stream the answer stops anywhere: inside a fence, a link, a table, a `**`.
    partial = markdown[:data.draw(st.integers(0, len(markdown)), label="cut")]
    for check in (check_telegram, check_discord, check_slack_markdown, check_slack_mrkdwn):
        check(partial, limit)


@EXAMPLES
@given(MARKDOWN)
def test_one_part_when_the_limit_is_large(markdown: str) -> None:
    assert len(render.telegram(markdown, 100_000)) <= 1
    assert len(render.discord(markdown, 100_000)) <= 1
    text = render.plain(markdown)
    assert [p.text for p in render.telegram(markdown, 100_000)] == ([text] if text.strip() else [])


@given(st.text(st.characters(codec="utf-8", exclude_categories=("Cs",))),
       st.integers(min_value=1, max_value=60))
def test_a_clipped_text_fits_and_is_the_start_of_the_text(text: str, limit: int) -> None:
    shown = render.clipped(text, limit)
    assert utf16_len(shown) <= limit
    if utf16_len(text) <= limit:
        assert shown == text
    else:
        assert shown.endswith("…") and text.startswith(shown[:-1])
        assert utf16_len(shown) >= limit - 1  # cut no shorter than it must be (an emoji is 2)
