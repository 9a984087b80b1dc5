"""The shared command texts: one wording on every platform, a correct plural."""

from __future__ import annotations

import pytest

from adapters import commands, menus
from adapters.commands import Menu, Said
from core.keys import SessionKey, UserKey
from core.presets import Option
from core.service import ChatService


@pytest.mark.parametrize(("count", "said"), [
    (0, "(0 conversations)."),
    (1, "(1 conversation)."),
    (2, "(2 conversations)."),
    (11, "(11 conversations)."),
])
def test_forgotten_counts_with_a_correct_plural(count: int, said: str) -> None:
    assert commands.forgotten(count) == f"Done: I erased everything I kept about you {said}"


def test_every_platform_lists_the_same_commands() -> None:
    assert [c.name for c in commands.COMMANDS] == [
        "reset", "forget", "export", "model", "persona", "usage", "link", "unlink",
        "whoami", "help"]


async def test_model_and_persona_show_choose_and_refuse(service: ChatService) -> None:
    session = SessionKey.direct(UserKey.of("cli", "ana"))
    shown = await commands.current(service, session, "model")
    assert shown.startswith("This conversation's model is default.") and "• default" in shown
    said = await commands.outcome(commands.choose(service, session, "persona", "pirate"),
                                  where="test")
    assert said.startswith("There is no persona called “pirate” here. Choose one of: default")
    assert await commands.choose(service, session, "model", " default ") == \
        "From now on this conversation uses the model default."


async def test_a_failed_command_says_why_without_raising() -> None:
    async def broken() -> str:
        raise RuntimeError("store down")

    said = await commands.outcome(broken(), where="test")
    assert "ref " in said


MENU = Menu("model", (Option("default", ""), Option("fast", "Quick answers")), "default")


@pytest.mark.parametrize(("said", "shown"), [
    (Said("x"), []),
    (Said("x", MENU), [[("✓ default", "model:default:b")], [("fast", "model:fast:b")]]),
    (Said("x", confirm=True), [[(menus.YES, "forget:yes:b"), (menus.CANCEL, "forget:no:b")]]),
])
def test_which_buttons_a_command_answer_gets(said: Said, shown: list[list[tuple[str, str]]]
                                             ) -> None:
    assert [[(b.label, b.data) for b in row] for row in menus.rows(said, "b")] == shown
