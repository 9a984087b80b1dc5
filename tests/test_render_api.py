"""adapters.render's public API: one parse reused, Telegram entities, splitting preferences."""

from __future__ import annotations

import re

import pytest
from telegram import MessageEntity

from adapters import render
from adapters.render import utf16_len

MIXED = "# T\n\n**b** *i* ~~s~~ `c` [l](https://l.io)\n\n> q\n\n- a\n  - b\n\n```py\nx\n```"


def test_a_parsed_document_renders_like_its_source() -> None:
    doc = render.parse(MIXED)
    assert render.telegram(doc) == render.telegram(MIXED)
    assert render.discord(doc) == render.discord(MIXED)
    assert render.slack_markdown(doc) == render.slack_markdown(MIXED)
    assert render.slack_mrkdwn(doc) == render.slack_mrkdwn(MIXED)
    assert render.plain(doc) == render.plain(MIXED) == render.telegram(MIXED)[0].text


def test_entities_become_python_telegram_bot_entities() -> None:
    (part,) = render.telegram(MIXED)
    entities = [MessageEntity(**e.to_dict()) for e in part.entities]
    assert {e.type for e in entities} <= set(MessageEntity.ALL_TYPES)
    assert {e.type for e in entities} == {"bold", "underline", "italic", "strikethrough", "code",
                                          "text_link", "blockquote", "pre"}
    pre = next(e for e in entities if e.type == "pre")
    assert pre.language == "py" and part.text[pre.offset:pre.offset + pre.length] == "x"


@pytest.mark.parametrize("blank", ["", "   ", "\n\n", "```\n```", "> ", "-"])
def test_blank_input_gives_no_message(blank: str) -> None:
    assert render.telegram(blank) == []
    assert render.discord(blank) == render.slack_markdown(blank) == []
    assert render.slack_mrkdwn(blank) == []


def test_a_limit_too_small_for_one_character_is_an_error() -> None:
    with pytest.raises(ValueError, match="limit too small"):
        render.discord("```python\ncode\n```", 8)


def test_split_prefers_block_boundaries_then_list_items() -> None:
    first, second = "a " * 20, "b " * 20
    assert render.discord(f"{first}\n\n{second}", 60) == [first.strip(), second.strip()]
    items = "\n".join(f"- item {n} " + "x" * 20 for n in range(4))
    parts = render.discord(items, 70)
    assert all(line.startswith("- item") for part in parts for line in part.split("\n"))


def test_a_nested_item_opening_a_part_loses_its_indentation() -> None:
    parts = render.telegram("- top\n  - " + "nested " * 12, 60)
    assert [p.text[:3] for p in parts[:2]] == ["• t", "• n"]
    assert not any(p.text[0].isspace() for p in parts)  # Telegram would trim it


def test_a_bold_span_split_across_parts_is_bold_in_each() -> None:
    bold = "**" + "word " * 29 + "word**"
    parts = render.telegram(bold, 50)
    assert len(parts) > 1
    for part in parts:
        assert [(e.type, e.offset, e.length) for e in part.entities] == \
            [("bold", 0, utf16_len(part.text))]
    assert all(p.startswith("**") and p.endswith("**") for p in render.discord(bold, 50))


def test_hard_cuts_keep_emoji_sequences_and_count_utf16() -> None:
    family = "👨‍👩‍👧"  # 8 UTF-16 units, one grapheme
    parts = render.telegram(family * 1000)
    assert all(utf16_len(p.text) <= render.TELEGRAM_LIMIT for p in parts)
    assert all(p.text == family * (len(p.text) // len(family)) for p in parts)
    assert "".join(p.text for p in parts) == family * 1000


def test_slack_block_limit() -> None:
    text = "\n\n".join("paragraph " * 50 for _ in range(40))
    parts = render.slack_markdown(text, render.SLACK_BLOCK_LIMIT)
    assert len(parts) == 2 and all(len(p) <= 12000 for p in parts)


@pytest.mark.parametrize("unsafe", ["<!channel>", "<!here|here>", "<!everyone>", "<@U123>",
                                    "<!subteam^S1>", "[x](!channel)", "[x](javascript:alert)"])
def test_slack_output_cannot_mention_or_link_anywhere_unsafe(unsafe: str) -> None:
    (mrkdwn,) = render.slack_mrkdwn(f"hi {unsafe} there")
    (markdown,) = render.slack_markdown(f"hi {unsafe} there")
    for text in (mrkdwn, markdown):
        assert "<!" not in text and "<@" not in text
    assert "<javascript" not in mrkdwn and "<!" not in mrkdwn
    assert not re.search(r"(?<!\\)\]\((javascript|!)", markdown)  # only as escaped text


def test_telegram_links_are_only_web_addresses() -> None:
    (part,) = render.telegram("[a](tg://user?id=1) [b](mailto:x@y.z) [c](https://c.io)")
    assert [(e.type, e.url) for e in part.entities] == [("text_link", "mailto:x@y.z"),
                                                       ("text_link", "https://c.io")]


def test_a_line_is_cut_outside_links_when_it_can_be() -> None:
    text = "intro words here " + "[a long link label](https://x.io/page) tail"
    parts = render.telegram(text, 30)  # a plain word cut would leave "a long" behind
    assert [p.text for p in parts] == ["intro words here", "a long link label tail"]
    assert [(e.type, e.offset, e.length) for e in parts[1].entities] == [("text_link", 0, 17)]


def test_quotes_and_lists_nest_either_way() -> None:
    markdown = "- a\n\n  > in item\n- b\n\n> - in quote\n>   - deeper"
    assert render.discord(markdown) == [
        "- a\n\n  > in item\n\n- b\n\n> - in quote\n>   - deeper"]
    (part,) = render.telegram(markdown)
    assert part.text == "• a\n\n  in item\n\n• b\n\n• in quote\n  • deeper"
    assert [(e.type, e.offset, e.length) for e in part.entities] == [
        ("blockquote", 7, 7), ("blockquote", 21, 21)]


def test_telegram_code_sits_in_no_style_or_link() -> None:
    (part,) = render.telegram("**a `b` c** [`d`](https://d.io)")
    assert part.text == "a b c d"
    assert [(e.type, e.offset, e.length) for e in part.entities] == [
        ("bold", 0, 2), ("code", 2, 1), ("bold", 3, 2), ("text_link", 6, 1)]
