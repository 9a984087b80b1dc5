"""Model Markdown to Slack text: mrkdwn for posted messages, neutralised Markdown for streams."""

from __future__ import annotations

import re

_FENCE = re.compile(r"```[^\n`]*\n(.*?)(?:```|\Z)", re.DOTALL)
_INLINE_CODE = re.compile(r"(`[^`\n]+`)")
_LINK = re.compile(r"!?\[([^\]\n]+)\]\(((?:https?://|mailto:)[^\s()<>|]+)\)")
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_ITALIC = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
_STRIKE = re.compile(r"~~(?=\S)(.+?)(?<=\S)~~")
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*$", re.MULTILINE)
_BULLET = re.compile(r"^(\s*)[-*+]\s+", re.MULTILINE)
_BROADCAST = re.compile(r"@(?=(channel|here|everyone)\b)", re.IGNORECASE)
_SPECIAL = re.compile(r"<(?=[!@])")
_BOLD_MARK = "\x00"  # a placeholder the model cannot send: control characters are dropped first
WORD_JOINER = "\u2060"


def escape(text: str) -> str:
    """Slack's three control characters; escaping `<` is what turns `<!channel>` into plain text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _no_broadcast(text: str) -> str:
    # Bare @channel only pings with link_names, but a joiner keeps it inert wherever it lands.
    return _BROADCAST.sub("@" + WORD_JOINER, text)


def neutralise_markdown(text: str) -> str:
    """Keep Markdown for native streams, but make `<!here>`, `<@U1>` and `@channel` inert."""
    return _no_broadcast(_SPECIAL.sub("<" + WORD_JOINER, text))


def _inline(text: str) -> str:
    # Links are marked with \x01..\x02 before escaping, so only our own `<url|label>` survive.
    text = _LINK.sub(lambda m: f"\x01{m.group(2)}|{m.group(1)}\x02", text)
    text = _BOLD.sub(lambda m: f"{_BOLD_MARK}{m.group(1)}{_BOLD_MARK}", text)
    text = _ITALIC.sub(r"_\1_", text)
    text = _STRIKE.sub(r"~\1~", text)
    text = _HEADING.sub(lambda m: f"{_BOLD_MARK}{m.group(1)}{_BOLD_MARK}", text)
    text = _BULLET.sub(r"\1• ", text)
    text = escape(text).replace("\x01", "<").replace("\x02", ">")
    return _no_broadcast(text).replace(_BOLD_MARK, "*")


def _prose(text: str) -> str:
    parts = _INLINE_CODE.split(text)
    # re.split with one group: odd indexes are the code spans, kept verbatim but escaped.
    return "".join(escape(p) if i % 2 else _inline(p) for i, p in enumerate(parts))


def to_mrkdwn(markdown: str) -> str:
    """Convert Markdown to Slack mrkdwn: code kept verbatim (escaped), prose restyled."""
    markdown = "".join(c for c in markdown if c >= " " or c in "\n\t")
    out, last = [], 0
    for match in _FENCE.finditer(markdown):
        out.append(_prose(markdown[last:match.start()]))
        out.append(f"```\n{escape(match.group(1).rstrip())}\n```")
        last = match.end()
    out.append(_prose(markdown[last:]))
    return "".join(out).strip()

