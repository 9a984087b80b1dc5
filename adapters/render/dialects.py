"""The three markup dialects: Discord Markdown, Slack Markdown and Slack mrkdwn."""

from __future__ import annotations

import re
from urllib.parse import quote

from adapters.render.layout import Flavor
from adapters.render.markup import Syntax, code_span

ZERO_WIDTH_SPACE = "\u200b"
WORD_JOINER = "\u2060"
DISCORD_LIMIT = 2000
SLACK_TEXT_LIMIT = 3900  # like SLACK_MAX_MESSAGE_CHARS: Slack truncates text past 4000
SLACK_BLOCK_LIMIT = 12000  # the `markdown` block's limit

DISCORD_FLAVOR = Flavor(bullet="-", heading_marks=3, heading_styles=("bold",))
SLACK_MARKDOWN_FLAVOR = Flavor(bullet="-", heading_marks=6, heading_styles=("bold",))
MRKDWN_FLAVOR = Flavor(bullet="•", heading_marks=0, heading_styles=("bold",))

_SPECIAL = re.compile(r"([\\`*_~\[\]<>|#])")
_LINE_START = re.compile(r"^([>+=-]|\d+(?=[.)]))")
_ENTITY = re.compile(r"&(?=#?\w+;)")
_DISCORD_BROADCAST = re.compile(r"@(?=everyone|here)", re.IGNORECASE)  # even `@everyone_`
_DISCORD_MENTION = re.compile(r"<(?=[@#])")
_SLACK_BROADCAST = re.compile(r"@(?=(channel|here|everyone)\b)", re.IGNORECASE)
_SLACK_SPECIAL = re.compile(r"<(?=[!@#])")


def escape_commonmark(text: str, at_start: bool) -> str:
    """Backslash-escape what CommonMark (and Discord) would read as markup."""
    text = _ENTITY.sub(r"\\&", _SPECIAL.sub(r"\\\1", text))
    if at_start:  # a number or `#`, `-`, `>` opening a line would start a list, heading, quote
        text = _LINE_START.sub(lambda m: m.group(1) + "\\" if m.group(1)[0].isdigit()
                               else "\\" + m.group(1), text)
    return text



def _paren_url(url: str) -> tuple[str, str]:
    # Percent-encode what would end `(url)` early; the address stays the same one.
    return "[", "](" + quote(url, safe=":/?#@!$&'*+,;=%~-._[]") + ")"


def neutralise_discord(text: str) -> str:
    """`@everyone`, `@here`, `<@1>`, `<@&1>`, `<#1>` get a zero-width space: shown, inert."""
    return _DISCORD_MENTION.sub("<" + ZERO_WIDTH_SPACE,
                                _DISCORD_BROADCAST.sub("@" + ZERO_WIDTH_SPACE, text))


def neutralise_slack(text: str) -> str:
    """`<!channel>`, `<!here>`, `<@U1>` and bare `@channel` get a word joiner, as today."""
    return _SLACK_SPECIAL.sub("<" + WORD_JOINER, _SLACK_BROADCAST.sub("@" + WORD_JOINER, text))


def escape_slack(text: str) -> str:
    """Slack's three control characters; escaping `<` is what turns `<!channel>` into text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _mrkdwn_code(text: str) -> str:
    # mrkdwn has no way to put a backtick inside code: such a span stays plain text.
    return escape_slack(text) if "`" in text else f"`{escape_slack(text)}`"


def _slack_link(url: str) -> tuple[str, str]:
    return "<" + escape_slack(url).replace("|", "%7C") + "|", ">"


DISCORD = Syntax(
    marks={"bold": ("**", "**"), "italic": ("*", "*"), "strike": ("~~", "~~"),
           "underline": ("__", "__")},
    link=_paren_url, code_span=code_span, escape=escape_commonmark, code_line=str,
    neutralise=neutralise_discord)

SLACK_MARKDOWN = Syntax(
    marks={"bold": ("**", "**"), "italic": ("*", "*"), "strike": ("~~", "~~")},
    link=_paren_url, code_span=code_span, escape=escape_commonmark, code_line=str,
    neutralise=neutralise_slack)

MRKDWN = Syntax(
    marks={"bold": ("*", "*"), "italic": ("_", "_"), "strike": ("~", "~")},
    link=_slack_link, code_span=_mrkdwn_code,
    escape=lambda text, _start: escape_slack(text), code_line=escape_slack,
    neutralise=lambda text: _SLACK_BROADCAST.sub("@" + WORD_JOINER, text), flat_links=True,
    fence_language=False)
