"""Golden outputs of adapters.render: the exact text (and Telegram entities) per platform."""

from __future__ import annotations

import pytest

from adapters import render

LONG = " ".join(f"word{i}" for i in range(1, 25))
CODE = "```py\n" + "\n".join(f"x{i} = {i}" for i in range(1, 13)) + "\n```"

# Each case: Markdown, limit (None: the platform default), then Telegram parts as
# (text, [(type, offset, length[, url or language])]), Discord, Slack Markdown, Slack mrkdwn.
CASES = [
    pytest.param(
        "**bold** text",
        None,
        [("bold text", [("bold", 0, 4)])],
        ["**bold** text"],
        ["**bold** text"],
        ["*bold* text"],
        id="bold",
    ),
    pytest.param(
        "*italic* and _also_",
        None,
        [("italic and also", [("italic", 0, 6), ("italic", 11, 4)])],
        ["*italic* and *also*"],
        ["*italic* and *also*"],
        ["_italic_ and _also_"],
        id="italic",
    ),
    pytest.param(
        "***both*** and **b *i* b**",
        None,
        [("both and b i b", [("italic", 0, 4), ("bold", 0, 4), ("bold", 9, 5), ("italic", 11, 1)])],
        ["***both*** and **b *i* b**"],
        ["***both*** and **b *i* b**"],
        ["_*both*_ and *b _i_ b*"],
        id="bold_italic",
    ),
    pytest.param(
        "~~gone~~ stays",
        None,
        [("gone stays", [("strikethrough", 0, 4)])],
        ["~~gone~~ stays"],
        ["~~gone~~ stays"],
        ["~gone~ stays"],
        id="strike",
    ),
    pytest.param(
        "use `x < y` and ``a`b``",
        None,
        [("use x < y and a`b", [("code", 4, 5), ("code", 14, 3)])],
        ["use `x < y` and ``a`b``"],
        ["use `x < y` and ``a`b``"],
        ["use `x &lt; y` and a`b"],
        id="inline_code",
    ),
    pytest.param(
        "```python\nif a < b:\n    pass\n```",
        None,
        [("if a < b:\n    pass", [("pre", 0, 18, "python")])],
        ["```python\nif a < b:\n    pass\n```"],
        ["```python\nif a < b:\n    pass\n```"],
        ["```\nif a &lt; b:\n    pass\n```"],
        id="fence_language",
    ),
    pytest.param(
        "code:\n```js\nlet a = 1",
        None,
        [("code:\n\nlet a = 1", [("pre", 7, 9, "js")])],
        ["code:\n\n```js\nlet a = 1\n```"],
        ["code:\n\n```js\nlet a = 1\n```"],
        ["code:\n\n```\nlet a = 1\n```"],
        id="unclosed_fence",
    ),
    pytest.param(
        "**not closed",
        None,
        [("**not closed", [])],
        ["\\*\\*not closed"],
        ["\\*\\*not closed"],
        ["**not closed"],
        id="unclosed_bold",
    ),
    pytest.param(
        "> quoted **text**",
        None,
        [("quoted text", [("blockquote", 0, 11), ("bold", 7, 4)])],
        ["> quoted **text**"],
        ["> quoted **text**"],
        ["> quoted *text*"],
        id="quote",
    ),
    pytest.param(
        "> outer\n>\n> > inner",
        None,
        [("outer\n\ninner", [("blockquote", 0, 12)])],
        ["> outer\n>\n> > inner"],
        ["> outer\n>\n> > inner"],
        ["> outer\n>\n> > inner"],
        id="nested_quote",
    ),
    pytest.param(
        "3. three\n4. four",
        None,
        [("3. three\n4. four", [])],
        ["3. three\n4. four"],
        ["3. three\n4. four"],
        ["3. three\n4. four"],
        id="ordered_list",
    ),
    pytest.param(
        "- a\n  - b\n    - c\n- d",
        None,
        [("• a\n  • b\n    • c\n• d", [])],
        ["- a\n  - b\n    - c\n- d"],
        ["- a\n  - b\n    - c\n- d"],
        ["• a\n  • b\n    • c\n• d"],
        id="nested_list",
    ),
    pytest.param(
        "# One\n\n## Two *it*\n\n#### Four",
        None,
        [
            (
                "One\n\nTwo it\n\nFour",
                [
                    ("bold", 0, 3),
                    ("underline", 0, 3),
                    ("bold", 5, 6),
                    ("underline", 5, 6),
                    ("italic", 9, 2),
                    ("bold", 13, 4),
                    ("underline", 13, 4),
                ],
            )
        ],
        ["# One\n\n## Two *it*\n\n**Four**"],
        ["# One\n\n## Two *it*\n\n#### Four"],
        ["*One*\n\n*Two _it_*\n\n*Four*"],
        id="headings",
    ),
    pytest.param(
        "| a | b |\n|---|--:|\n| 1 | 22 |",
        None,
        [("a   b\n-  --\n1  22", [("pre", 0, 17)])],
        ["```\na   b\n-  --\n1  22\n```"],
        ["```\na   b\n-  --\n1  22\n```"],
        ["```\na   b\n-  --\n1  22\n```"],
        id="table",
    ),
    pytest.param(
        "| name | note |\n|:-:|---|\n| **x** | `y` and [z](https://z.io) |",
        None,
        [("name  note\n----  -------\n x    y and z", [("pre", 0, 38)])],
        ["```\nname  note\n----  -------\n x    y and z\n```"],
        ["```\nname  note\n----  -------\n x    y and z\n```"],
        ["```\nname  note\n----  -------\n x    y and z\n```"],
        id="table_inline",
    ),
    pytest.param(
        "see [docs](https://example.com/a?b=1&c=2)",
        None,
        [("see docs", [("text_link", 4, 4, "https://example.com/a?b=1&c=2")])],
        ["see [docs](https://example.com/a?b=1&c=2)"],
        ["see [docs](https://example.com/a?b=1&c=2)"],
        ["see <https://example.com/a?b=1&amp;c=2|docs>"],
        id="link",
    ),
    pytest.param(
        "<https://example.com> and <me@example.com>",
        None,
        [("https://example.com and me@example.com", [])],
        ["https://example.com and me@example.com"],
        ["https://example.com and me@example.com"],
        ["https://example.com and me@example.com"],
        id="autolinks",
    ),
    pytest.param(
        "[wiki](https://en.wikipedia.org/wiki/Foo_(bar)) [u](https://x.io/a_b_c)",
        None,
        [
            (
                "wiki u",
                [
                    ("text_link", 0, 4, "https://en.wikipedia.org/wiki/Foo_(bar)"),
                    ("text_link", 5, 1, "https://x.io/a_b_c"),
                ],
            )
        ],
        ["[wiki](https://en.wikipedia.org/wiki/Foo_%28bar%29) [u](https://x.io/a_b_c)"],
        ["[wiki](https://en.wikipedia.org/wiki/Foo_%28bar%29) [u](https://x.io/a_b_c)"],
        ["<https://en.wikipedia.org/wiki/Foo_(bar)|wiki> <https://x.io/a_b_c|u>"],
        id="url_parens",
    ),
    pytest.param(
        "hi 👍🏽 **👨\u200d👩\u200d👧 family**",
        None,
        [("hi 👍🏽 👨\u200d👩\u200d👧 family", [("bold", 8, 15)])],
        ["hi 👍🏽 **👨\u200d👩\u200d👧 family**"],
        ["hi 👍🏽 **👨\u200d👩\u200d👧 family**"],
        ["hi 👍🏽 *👨\u200d👩\u200d👧 family*"],
        id="emoji",
    ),
    pytest.param(
        "مرحبا **بالعالم**\n\nשלום *עולם*",
        None,
        [("مرحبا بالعالم\n\nשלום עולם", [("bold", 6, 7), ("italic", 20, 4)])],
        ["مرحبا **بالعالم**\n\nשלום *עולם*"],
        ["مرحبا **بالعالم**\n\nשלום *עולם*"],
        ["مرحبا *بالعالم*\n\nשלום _עולם_"],
        id="rtl",
    ),
    pytest.param(
        "@everyone look <@123> <@&45> <#67> @here",
        None,
        [("@everyone look <@123> <@&45> <#67> @here", [])],
        ["@\u200beveryone look \\<\u200b@123\\> \\<\u200b@&45\\> \\<\\#67\\> @\u200bhere"],
        ["@\u2060everyone look \\<\u2060@123\\> \\<\u2060@&45\\> \\<\\#67\\> @\u2060here"],
        ["@\u2060everyone look &lt;@123&gt; &lt;@&amp;45&gt; &lt;#67&gt; @\u2060here"],
        id="discord_mentions",
    ),
    pytest.param(
        "<!channel> <!here|here> <@U123> @channel",
        None,
        [("<!channel> <!here|here> <@U123> @channel", [])],
        ["\\<!channel\\> \\<!here\\|here\\> \\<\u200b@U123\\> @channel"],
        ["\\<\u2060!channel\\> \\<\u2060!here\\|here\\> \\<\u2060@U123\\> @\u2060channel"],
        ["&lt;!channel&gt; &lt;!here|here&gt; &lt;@U123&gt; @\u2060channel"],
        id="slack_broadcasts",
    ),
    pytest.param(
        "a < b > c & d * e _ f",
        None,
        [("a < b > c & d * e _ f", [])],
        ["a \\< b \\> c & d \\* e \\_ f"],
        ["a \\< b \\> c & d \\* e \\_ f"],
        ["a &lt; b &gt; c &amp; d * e _ f"],
        id="stray_chars",
    ),
    pytest.param(
        "<b>bold?</b> <script>x</script>",
        None,
        [("<b>bold?</b> <script>x</script>", [])],
        ["\\<b\\>bold?\\</b\\> \\<script\\>x\\</script\\>"],
        ["\\<b\\>bold?\\</b\\> \\<script\\>x\\</script\\>"],
        ["&lt;b&gt;bold?&lt;/b&gt; &lt;script&gt;x&lt;/script&gt;"],
        id="html_as_text",
    ),
    pytest.param(
        "[x](javascript:alert(1)) [y](!channel) ![pic](https://i.io/a.png)",
        None,
        [("[x](javascript:alert(1)) y pic", [("text_link", 27, 3, "https://i.io/a.png")])],
        ["\\[x\\](javascript:alert(1)) y [pic](https://i.io/a.png)"],
        ["\\[x\\](javascript:alert(1)) y [pic](https://i.io/a.png)"],
        ["[x](javascript:alert(1)) y <https://i.io/a.png|pic>"],
        id="unsafe_links",
    ),
    pytest.param(
        "line one\nline two",
        None,
        [("line one\nline two", [])],
        ["line one\nline two"],
        ["line one\nline two"],
        ["line one\nline two"],
        id="line_breaks",
    ),
    pytest.param(
        "a\n\n---\n\nb",
        None,
        [("a\n\n———\n\nb", [])],
        ["a\n\n———\n\nb"],
        ["a\n\n———\n\nb"],
        ["a\n\n———\n\nb"],
        id="rule",
    ),
    pytest.param(
        LONG,
        60,
        [
            ("word1 word2 word3 word4 word5 word6 word7 word8 word9 word10", []),
            ("word11 word12 word13 word14 word15 word16 word17 word18", []),
            ("word19 word20 word21 word22 word23 word24", []),
        ],
        [
            "word1 word2 word3 word4 word5 word6 word7 word8 word9 word10",
            "word11 word12 word13 word14 word15 word16 word17 word18",
            "word19 word20 word21 word22 word23 word24",
        ],
        [
            "word1 word2 word3 word4 word5 word6 word7 word8 word9 word10",
            "word11 word12 word13 word14 word15 word16 word17 word18",
            "word19 word20 word21 word22 word23 word24",
        ],
        [
            "word1 word2 word3 word4 word5 word6 word7 word8 word9 word10",
            "word11 word12 word13 word14 word15 word16 word17 word18",
            "word19 word20 word21 word22 word23 word24",
        ],
        id="long_paragraph",
    ),
    pytest.param(
        CODE,
        60,
        [
            (
                "x1 = 1\nx2 = 2\nx3 = 3\nx4 = 4\nx5 = 5\nx6 = 6\nx7 = 7\nx8 = 8",
                [("pre", 0, 55, "py")],
            ),
            ("x9 = 9\nx10 = 10\nx11 = 11\nx12 = 12", [("pre", 0, 33, "py")]),
        ],
        [
            "```py\nx1 = 1\nx2 = 2\nx3 = 3\nx4 = 4\nx5 = 5\nx6 = 6\nx7 = 7\n```",
            "```py\nx8 = 8\nx9 = 9\nx10 = 10\nx11 = 11\nx12 = 12\n```",
        ],
        [
            "```py\nx1 = 1\nx2 = 2\nx3 = 3\nx4 = 4\nx5 = 5\nx6 = 6\nx7 = 7\n```",
            "```py\nx8 = 8\nx9 = 9\nx10 = 10\nx11 = 11\nx12 = 12\n```",
        ],
        [
            "```\nx1 = 1\nx2 = 2\nx3 = 3\nx4 = 4\nx5 = 5\nx6 = 6\nx7 = 7\n```",
            "```\nx8 = 8\nx9 = 9\nx10 = 10\nx11 = 11\nx12 = 12\n```",
        ],
        id="long_code",
    ),
    pytest.param(
        "# Plan\n\nDo **this**:\n\n1. run `make`\n2. see [log](https://ci.io/1)\n\n> done",
        None,
        [
            (
                "Plan\n\nDo this:\n\n1. run make\n2. see log\n\ndone",
                [
                    ("bold", 0, 4),
                    ("underline", 0, 4),
                    ("bold", 9, 4),
                    ("code", 23, 4),
                    ("text_link", 35, 3, "https://ci.io/1"),
                    ("blockquote", 40, 4),
                ],
            )
        ],
        ["# Plan\n\nDo **this**:\n\n1. run `make`\n2. see [log](https://ci.io/1)\n\n> done"],
        ["# Plan\n\nDo **this**:\n\n1. run `make`\n2. see [log](https://ci.io/1)\n\n> done"],
        ["*Plan*\n\nDo *this*:\n\n1. run `make`\n2. see <https://ci.io/1|log>\n\n> done"],
        id="mixed",
    ),
]


def _kw(limit: int | None) -> dict[str, int]:
    return {} if limit is None else {"limit": limit}


@pytest.mark.parametrize(("markdown", "limit", "parts", "discord", "slack_md", "mrkdwn"), CASES)
def test_telegram(
    markdown: str,
    limit: int | None,
    parts: list[tuple[str, list[tuple[object, ...]]]],
    discord: list[str],
    slack_md: list[str],
    mrkdwn: list[str],
) -> None:
    got = [
        (p.text, [tuple(e.to_dict().values()) for e in p.entities])
        for p in render.telegram(markdown, **_kw(limit))
    ]
    assert got == parts


@pytest.mark.parametrize(("markdown", "limit", "parts", "discord", "slack_md", "mrkdwn"), CASES)
def test_discord(
    markdown: str,
    limit: int | None,
    parts: object,
    discord: list[str],
    slack_md: list[str],
    mrkdwn: list[str],
) -> None:
    assert render.discord(markdown, **_kw(limit)) == discord


@pytest.mark.parametrize(("markdown", "limit", "parts", "discord", "slack_md", "mrkdwn"), CASES)
def test_slack_markdown(
    markdown: str,
    limit: int | None,
    parts: object,
    discord: list[str],
    slack_md: list[str],
    mrkdwn: list[str],
) -> None:
    assert render.slack_markdown(markdown, **_kw(limit)) == slack_md


@pytest.mark.parametrize(("markdown", "limit", "parts", "discord", "slack_md", "mrkdwn"), CASES)
def test_slack_mrkdwn(
    markdown: str,
    limit: int | None,
    parts: object,
    discord: list[str],
    slack_md: list[str],
    mrkdwn: list[str],
) -> None:
    assert render.slack_mrkdwn(markdown, **_kw(limit)) == mrkdwn
