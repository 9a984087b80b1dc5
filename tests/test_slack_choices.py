"""Choosing the model and persona on Slack: `/switchboard model|persona [NAME]` and its menu,
end to end with real slack-bolt, the fake Slack, and the real ChatOpenAI against the fake OpenAI.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

import pytest

from adapters.commands import Kind, Menu, Said
from adapters.slack.slash import (
    ACTION_IDS,
    CHOOSE_IN_DM,
    HELP,
    IN_CHANNEL,
    Asked,
    menu_blocks,
    parse,
    picked,
)
from core.keys import SessionKey, UserKey
from core.presets import Option
from core.service import ChatService
from tests.fakes.common import wait_for
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack_api import FakeSlack, fake_slack
from tests.test_discord_choices import MANY
from tests.test_presets import FILE
from tests.test_slack import Slack, dm, running, stored

DM = SessionKey.direct(UserKey.of("slack", "T1", "U1"))
_ids = itertools.count(1)


@pytest.mark.parametrize(("text", "channel", "asked"), [
    ("forget", "C1", Asked("forget")),
    (" Forget ", "D1", Asked("forget")),
    ("reset", "D1", Asked("reset")),
    ("RESET", "C1", Asked("reset", "", IN_CHANNEL)),  # a channel's threads start over anew
    ("usage", "C1", Asked("usage")),
    ("help", "D1", Asked("help")),
    ("", "D1", Asked("help")),
    ("reset everything", "D1", Asked("help")),
    ("model", "D1", Asked("model")),
    ("  Persona  ", "D1", Asked("persona")),
    ("model smart", "D1", Asked("model", "smart")),
    ("MODEL  Smart ", "D1", Asked("model", "Smart")),  # names keep their case
    ("persona pirate", "D1", Asked("persona", "pirate")),
    ("persona two words", "D1", Asked("persona", "two words")),  # refused by the core
    ("model", "C1", Asked("model", "", CHOOSE_IN_DM)),  # no thread to show either
    ("model smart", "C1", Asked("model", "smart", CHOOSE_IN_DM)),
    ("persona pirate", "G1", Asked("persona", "pirate", CHOOSE_IN_DM)),
    ("models", "D1", Asked("help")),
])
def test_what_the_slash_command_asks_for(text: str, channel: str, asked: Asked) -> None:
    assert parse(text, channel) == asked


@pytest.mark.parametrize(("action_id", "value", "channel", "asked"), [
    ("switchboard_choose_model", "fast", "DU1", Asked("model", "fast")),
    ("switchboard_choose_persona", "pirate", "DU1", Asked("persona", "pirate")),
    ("switchboard_choose_model", "fast", "C1", Asked("model", "fast", CHOOSE_IN_DM)),
    ("switchboard_choose_model", "", "DU1", None),
    ("switchboard_choose_other", "fast", "DU1", None),
    ("", "fast", "DU1", None),
])
def test_what_a_menu_choice_asks_for(action_id: str, value: str, channel: str,
                                     asked: Asked | None) -> None:
    assert picked(action_id, value, channel) == asked


def test_the_menu_lists_options_with_the_current_one_selected() -> None:
    options = [Option("default", "gpt-4o-mini"), Option("smart", "x" * 100), Option("bare", "")]
    blocks = menu_blocks(Said("Now default", Menu("model", tuple(options), "smart")))
    assert blocks is not None
    section, actions = blocks
    assert section["text"]["text"] == "Now default"
    [select] = actions["elements"]
    assert select["action_id"] == ACTION_IDS["model"]
    labels = [o["text"]["text"] for o in select["options"]]
    assert labels[0] == "default: gpt-4o-mini" and labels[2] == "bare"
    assert len(labels[1]) == 75 and labels[1].endswith("…")
    assert select["initial_option"]["value"] == "smart"
    [_, actions] = menu_blocks(Said("Now gone", Menu("persona", tuple(options), "gone"))) or []
    assert "initial_option" not in actions["elements"][0]
    assert menu_blocks(Said("None here", Menu("model", (), "default"))) is None, "text alone"
    many = Menu("model", tuple(Option(f"m{i}", "") for i in range(130)), "m0")
    [_, actions] = menu_blocks(Said("Many", many)) or []
    assert len(actions["elements"][0]["options"]) == 100


@pytest.fixture
def config_text() -> str:
    return FILE


@pytest.fixture
async def presets(make_presets: Callable[[str], Awaitable[ChatService]],
                  config_text: str) -> ChatService:
    return await make_presets(config_text)

@pytest.fixture
async def slack(presets: ChatService) -> AsyncIterator[Slack]:
    async with fake_slack() as fake, running(fake, presets) as app:
        yield app


async def answer(slack: Slack, text: str, channel: str = "DU1") -> dict[str, Any]:
    """The ephemeral answer to `/switchboard <text>`."""
    count = len(slack.fake.responses)
    assert (await slack.command(text, channel=channel)).status_code == 200
    await wait_for(lambda: len(slack.fake.responses) > count)
    said = slack.fake.responses[-1]
    assert said["response_type"] == "ephemeral"
    return said


async def talk(slack: Slack, service: ChatService, openai_fake: FakeOpenAI,
               text: str) -> dict[str, Any]:
    """Send a DM and wait for it to be answered and stored; the model request it made."""
    before = len(await service.history(DM))
    await slack.event(dm(text))
    await stored(service, DM, before + 2)
    return openai_fake.requests[-1]


async def test_model_listed_chosen_and_used(slack: Slack, presets: ChatService,
                                            openai_fake: FakeOpenAI) -> None:
    shown = await answer(slack, "model")
    assert shown["text"].startswith("This conversation's model is default.")
    assert "• fast: Quick answers" in shown["text"] and "• smart" in shown["text"]
    assert "`/switchboard model NAME`" in shown["text"]
    [select] = shown["blocks"][1]["elements"]
    assert [o["value"] for o in select["options"]] == ["default", "fast", "smart"]
    assert select["initial_option"]["value"] == "default"
    assert (await talk(slack, presets, openai_fake, "hi"))["model"] == "gpt-4o-mini"
    chosen = await answer(slack, "model smart")
    assert chosen["text"] == "From now on this conversation uses the model smart."
    assert (await talk(slack, presets, openai_fake, "and now?"))["model"] == "smart-model"
    assert (await answer(slack, "model"))["text"].startswith(
        "This conversation's model is smart.")


async def test_persona_changes_the_system_prompt(slack: Slack, presets: ChatService,
                                                 openai_fake: FakeOpenAI) -> None:
    shown = await answer(slack, "persona")
    assert "• pirate: Talks like a pirate" in shown["text"]
    assert (await answer(slack, "persona pirate"))["text"].endswith("the persona pirate.")
    request = await talk(slack, presets, openai_fake, "ahoy?")
    assert request["messages"][0]["content"].startswith(
        "You are a helpful assistant who talks like a pirate.")


async def test_an_unknown_name_is_refused_with_the_choices(slack: Slack,
                                                           presets: ChatService) -> None:
    said = await answer(slack, "model gpt-5-ultra")
    assert said["text"] == ("There is no model called “gpt-5-ultra” here. Choose one of: "
                            "default, fast, smart.")
    assert "blocks" not in said or not said["blocks"]
    assert (await presets.choice(DM)).model == "default"


@pytest.mark.parametrize("text", ["model", "model smart", "persona pirate"])
async def test_in_a_channel_the_answer_says_where_to_choose(slack: Slack, presets: ChatService,
                                                            text: str) -> None:
    said = await answer(slack, text, channel="C1")
    assert said["text"] == CHOOSE_IN_DM
    assert (await presets.choice(DM)).model == "default", "nothing chosen for the DM"


async def test_help_lists_the_choices(slack: Slack) -> None:
    said = await answer(slack, "help")
    assert said["text"] == HELP
    assert "`/switchboard model`" in HELP and "`/switchboard persona`" in HELP


@pytest.mark.parametrize("config_text", [FILE + '[platforms."slack:T1"]\nmodels = ["fast"]\n'])
async def test_a_workspace_rule_narrows_the_menu(slack: Slack, presets: ChatService) -> None:
    shown = await answer(slack, "model")
    assert [o["value"] for o in shown["blocks"][1]["elements"][0]["options"]] == ["fast"]
    assert "initial_option" not in shown["blocks"][1]["elements"][0]  # default: not offered
    assert (await answer(slack, "model smart"))["text"].startswith("There is no model called")


def menu_choice(fake: FakeSlack, kind: Kind, value: str, channel: str = "DU1") -> str:
    """A `block_actions` payload as Slack posts it when the menu's selection changes."""
    body = {"type": "block_actions", "token": "legacy", "api_app_id": "A1",
            "team": {"id": "T1", "domain": "t1"}, "user": {"id": "U1", "team_id": "T1"},
            "channel": {"id": channel, "name": "directmessage"},
            "container": {"type": "message", "message_ts": "1.1", "channel_id": channel,
                          "is_ephemeral": True},
            "trigger_id": "1.2", "response_url": f"{fake.url}/respond/menu{next(_ids)}",
            "actions": [{"type": "static_select", "action_id": ACTION_IDS[kind],
                         "block_id": "b1", "action_ts": "1.2",
                         "selected_option": {"text": {"type": "plain_text", "text": value},
                                             "value": value}}]}
    return urlencode({"payload": json.dumps(body)})


async def test_the_menu_chooses_too(slack: Slack, presets: ChatService,
                                    openai_fake: FakeOpenAI) -> None:
    await answer(slack, "model")
    assert (await slack.send(menu_choice(slack.fake, "model", "fast"))).status_code == 200
    await wait_for(lambda: len(slack.fake.responses) == 2)
    said = slack.fake.responses[-1]
    assert said["text"] == "From now on this conversation uses the model fast."
    assert said["replace_original"] is True
    assert (await talk(slack, presets, openai_fake, "quick?"))["model"] == "fast-model"
    await slack.send(menu_choice(slack.fake, "persona", "nobody"))
    await wait_for(lambda: len(slack.fake.responses) == 3)
    assert slack.fake.responses[-1]["text"].startswith("There is no persona called “nobody”")
    await slack.send(menu_choice(slack.fake, "model", "smart", channel="C1"))
    await wait_for(lambda: len(slack.fake.responses) == 4)
    assert slack.fake.responses[-1]["text"] == CHOOSE_IN_DM
    assert (await presets.choice(DM)).model == "fast"


@pytest.mark.parametrize("config_text", [MANY])
async def test_a_list_longer_than_a_section_is_cut_to_one(slack: Slack) -> None:
    shown = await answer(slack, "model")
    section, menu = shown["blocks"]
    assert len(section["text"]["text"]) <= 3000 and section["text"]["text"].endswith("…")
    assert len(menu["elements"][0]["options"]) == 41, "every choice is still in the menu"
