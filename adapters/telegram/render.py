"""Telegram HTML from simple Markdown (code blocks, inline code, bold); all else escaped."""

from __future__ import annotations

import html
import re

from adapters.textsplit import FENCE, split, utf16_len

LIMIT = 4096  # Telegram's message limit, in UTF-16 units after entity parsing
_INLINE = re.compile(r"`([^`\n]+)`|\*\*(?=\S)(.+?)(?<=\S)\*\*", re.DOTALL)
_LANGUAGE = re.compile(r"^[\w+#.-]{1,30}$")


def pieces(text: str) -> list[str]:
    """The answer cut into messages; the Markdown source is never shorter than what shows."""
    return split(text, LIMIT, utf16_len)


def to_html(markdown: str) -> str:
    """Telegram HTML for one message; anything that is not our small Markdown subset is escaped."""
    out: list[str] = []
    code: list[str] | None = None
    language = ""
    for line in markdown.split("\n"):
        if code is not None:
            if line.strip() == FENCE:
                out.append(_pre(code, language))
                code = None
            else:
                code.append(line)
        elif line.lstrip().startswith(FENCE):
            code, language = [], line.strip()[len(FENCE):].strip()
        else:
            out.append(_inline(line))
    if code is not None:  # unterminated fence: still show it as code
        out.append(_pre(code, language))
    return "\n".join(out)


def _pre(lines: list[str], language: str) -> str:
    body = html.escape("\n".join(lines), quote=False)
    if _LANGUAGE.match(language):
        return f'<pre><code class="language-{html.escape(language)}">{body}</code></pre>'
    return f"<pre>{body}</pre>"


def _inline(line: str) -> str:
    out, last = [], 0
    for match in _INLINE.finditer(line):
        out.append(html.escape(line[last:match.start()], quote=False))
        if match.group(1) is not None:
            out.append(f"<code>{html.escape(match.group(1), quote=False)}</code>")
        else:
            out.append(f"<b>{html.escape(match.group(2), quote=False)}</b>")
        last = match.end()
    out.append(html.escape(line[last:], quote=False))
    return "".join(out)
