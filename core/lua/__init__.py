"""The Lua scripts behind the Redis store: each is atomic, and each is safe to run twice.

Each `NAME.lua` file here is `SOURCES["NAME"]`; its leading `--` lines say what it does and
what its KEYS and ARGV are. The erase epoch's scripts (ENTER, REGISTER, USE_IF, AUTHORS,
ERASE_BEGIN) run on the person's slot; FINISH is the langchain-redis backend's commit.
"""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable


def _source(file: Traversable) -> str:
    """One script's source: its file without the leading `--` lines that document it.

    The blank line after those comments stays: the sources, hence their SHA1s, are exactly
    what they were as Python strings.
    """
    text = file.read_text(encoding="utf-8")
    while text.startswith("--"):
        text = text.partition("\n")[2]
    return text


SOURCES: dict[str, str] = {file.name.removesuffix(".lua").upper(): _source(file)
                           for file in files(__name__).iterdir() if file.name.endswith(".lua")}
SOURCES["USE_IF"] += SOURCES["USE"]  # a guard, then USE itself
