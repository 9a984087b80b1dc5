"""A new user's journey on Slack, end to end: real slack-bolt behind FastAPI, the fake Slack, the
core built from a configuration file (two presets, a persona, the test MCP server), the real
ChatOpenAI against the fake OpenAI. In their DM with the bot they open `/switchboard model` and
`/switchboard persona` and pick from the menus, ask a question the model answers with the docs
tool, see the tool named as the assistant's status while it runs, and press Regenerate."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from adapters.commands import Kind
from core.keys import SessionKey, UserKey
from tests.fakes.common import wait_for
from tests.fakes.slack_api import fake_slack
from tests.journey import AGAIN, ANSWER, QUESTION, Journey, journey
from tests.test_slack import Slack, dm, running
from tests.test_slack_choices import answer, menu_choice
from tests.test_slack_regen import offered, press

__all__ = ["journey"]
DM = SessionKey.direct(UserKey.of("slack", "T1", "U1"))
USING = "is using docs lookup…"  # the assistant's status while the lookup runs


@pytest.fixture
async def slack(journey: Journey) -> AsyncIterator[Slack]:
    async with fake_slack() as fake, running(fake, journey.service) as app:
        yield app


async def choose(slack: Slack, kind: Kind, name: str) -> None:
    """Open the menu with the slash command, then pick `name` in it."""
    shown = await answer(slack, kind)
    assert shown["text"].startswith(f"This conversation's {kind} is default.")
    [select] = shown["blocks"][1]["elements"]
    assert name in [o["value"] for o in select["options"]], "the file's names are offered"
    count = len(slack.fake.responses)
    assert (await slack.send(menu_choice(slack.fake, kind, name))).status_code == 200
    await wait_for(lambda: len(slack.fake.responses) > count)
    said = slack.fake.responses[-1]
    assert said["text"] == f"From now on this conversation uses the {kind} {name}."


def statuses(slack: Slack) -> list[str]:
    return [c["status"] for c in slack.fake.called("assistant.threads.setStatus")]


async def test_a_new_user_chooses_asks_with_a_tool_and_regenerates(slack: Slack,
                                                                  journey: Journey) -> None:
    fake = slack.fake
    await choose(slack, "model", "smart")
    await choose(slack, "persona", "pirate")
    journey.ask()
    await slack.event(dm(QUESTION))
    await wait_for(lambda: USING in statuses(slack))  # the lookup is held open meanwhile
    assert not offered(fake), "no answer yet"
    journey.open_gate()
    [first] = await wait_for(lambda: offered(fake))
    assert first["text"] == ANSWER
    journey.check_answered()
    assert statuses(slack)[-1] != USING, "the status moved on when the tool was done"
    assert (await slack.send(press(fake, first))).status_code == 200
    await wait_for(lambda: len(offered(fake)) == 2)
    assert offered(fake)[1]["text"] == AGAIN
    await journey.check_regenerated(DM)


async def test_a_regenerated_answer_shows_its_tool_too(slack: Slack, journey: Journey) -> None:
    journey.open_gate()
    await slack.event(dm(QUESTION))
    [first] = await wait_for(lambda: offered(slack.fake))
    assert statuses(slack).count(USING) == 1
    journey.close_gate()
    try:
        await slack.send(press(slack.fake, first))
        await wait_for(lambda: statuses(slack).count(USING) == 2)
    finally:
        journey.open_gate()
    await wait_for(lambda: len(offered(slack.fake)) == 2)
