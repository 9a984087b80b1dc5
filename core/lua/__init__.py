"""The Lua scripts behind the Redis store: each is atomic, and each is safe to run twice."""

from __future__ import annotations

from importlib.resources import files


def _script(name: str) -> str:
    """One script's source: its `.lua` file without the leading `--` lines that document it.

    The blank line after those comments stays: the sources, hence their SHA1s, are exactly
    what they were as Python strings.
    """
    text = files(__name__).joinpath(f"{name}.lua").read_text(encoding="utf-8")
    while text.startswith("--"):
        text = text.partition("\n")[2]
    return text


RATE = _script("rate")
USE = _script("use")
TOTAL = _script("total")
OPEN = _script("open")
COMMIT = _script("commit")
REPLACE = _script("replace")
KEEP = _script("keep")
RELEASE = _script("release")
ERASE_SHARED = _script("erase_shared")
LINK_CODE = _script("link_code")
LINK_CLAIM = _script("link_claim")

# The erase epoch, on the person's slot: a random value naming their current life in the
# store, which an erase replaces with 'erasing' and then deletes with their other keys.
ENTER = _script("enter")
REGISTER = _script("register")
USE_IF = _script("use_if") + USE  # a guard, then USE itself
AUTHORS = _script("authors")
ERASE_BEGIN = _script("erase_begin")

FINISH = _script("finish")  # the langchain-redis backend's commit, after its messages
