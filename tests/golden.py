"""Golden Markdown answers: what the model may write, to check each platform gets the render."""

from __future__ import annotations

TABLE = "Prices:\n\n| item | price |\n|:-----|------:|\n| tea | 2 |\n| cake | 3.50 |"
LIST = "Steps:\n\n1. **Boil** the water\n2. Add *leaves*\n   - green, or\n   - black\n3. Wait"
LINK = "See [the docs](https://example.com/a_(b)?q=1&r=2) or <https://example.org>."
CODE = "Run `pip install x` then:\n\n```python\nif a < b and c > d:\n    print('*ok*')\n```"
MENTION = "Hi <@U2> <!channel> <@&3> <#4> @everyone and @here, done."
GOLDEN = {"table": TABLE, "list": LIST, "link": LINK, "code": CODE, "mention": MENTION}
# The same answer with a table, a list, a link and code, as in docs/screenshots/web.png.
SHOWCASE = ("## Tea for two\n\n| item | price |\n|:-----|------:|\n| tea | 2 |\n| cake | 3.50 |\n\n"
            "1. Boil the water\n2. Add **leaves**\n\nMore on [tea](https://example.com/tea).\n\n"
            "```python\nprint('cheers')\n```")
