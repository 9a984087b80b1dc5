"""Approve and Deny under an answer that asks to run a write tool, on Telegram, Discord and
Slack: real SDKs against the fakes, the real ChatOpenAI, the test MCP server over stdio."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from adapters import answers, confirm
from core.errors import UnknownConfirmation
from core.keys import SessionKey, UserKey
from core.service import ChatService
from core.tools import Toolbox
from tests.fakes.common import wait_for
from tests.fakes.discord_api import CHANNEL, GUILD, fake_discord
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack_api import BOT_ID, BOT_USER, fake_slack
from tests.fakes.telegram_api import FakeTelegram, chat_of, fake_telegram, telegram_bot, user
from tests.test_confirm import WRITE, ran
from tests.test_discord import ALICE, BOB, callbacks, running
from tests.test_slack import dm
from tests.test_slack import running as slack_running
from tests.test_telegram_regen import answered, message_of, press
from tests.test_tools import on_cue, toolbox

__all__ = ["toolbox"]
ASKED = "This needs your confirmation first"
DONE = "Deleted note 7."
ANA, EVE = user(11, "Ana"), user(12, "Eve")


def tools(service: ChatService, box: Toolbox, model: FakeOpenAI) -> None:
    service.tools = box.tools
    model.answer = on_cue(WRITE, DONE)


def keyboard(tg: FakeTelegram, text: str) -> dict[str, str]:
    """The buttons under the message that shows `text` (it may end with it)."""
    chat = chat_of(ANA)
    found = next((m for (c, m), t in tg.texts.items() if c == chat["id"] and text in t), 0)
    rows = (tg.markups.get((chat["id"], found)) or {}).get("inline_keyboard", [])
    return {b["text"]: b["callback_data"] for row in rows for b in row}


async def test_telegram_approve_runs_the_tool_once(
        llm_service: ChatService, toolbox: Toolbox, openai_fake: FakeOpenAI,
        tmp_path: Path) -> None:
    tools(llm_service, toolbox, openai_fake)
    chat = chat_of(ANA)
    async with fake_telegram() as tg, telegram_bot(tg, llm_service):
        await tg.send_text(chat, ANA, "delete note 7")
        buttons = await wait_for(lambda: keyboard(tg, ASKED))
        assert list(buttons) == [confirm.APPROVE, confirm.DENY] and ran(tmp_path) == []
        asked = next(t for (c, m), t in tg.texts.items() if ASKED in t)
        await press(tg, ANA, chat, asked, buttons[confirm.APPROVE])
        await wait_for(lambda: message_of(tg, chat, DONE))
        again = await press(tg, ANA, chat, asked, buttons[confirm.APPROVE])
        await wait_for(lambda: answered(tg, again))
    assert ran(tmp_path) == ["delete_note 7"], "run once, though pressed twice"
    assert not keyboard(tg, ASKED), "the buttons went once pressed"


async def test_telegram_answers_a_press_in_time_while_the_check_waits_in_line(
        make_llm_service: Callable[..., Awaitable[ChatService]], toolbox: Toolbox,
        openai_fake: FakeOpenAI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # One turn at a time, and Eve's holds the place: Ana's press waits in line for the core's
    # check longer than Telegram keeps a press (1 s here), so it is answered first.
    service = await make_llm_service(SWITCHBOARD_MAX_TURNS="1", SWITCHBOARD_MODEL_TIMEOUT="10")
    tools(service, toolbox, openai_fake)
    monkeypatch.setattr(answers, "ANSWER_PRESS_WITHIN", 0.1)
    ana, eve = chat_of(ANA), chat_of(EVE)
    async with fake_telegram() as tg, telegram_bot(tg, service):
        tg.query_ttl = 1.0
        await tg.send_text(ana, ANA, "delete note 7")
        buttons = await wait_for(lambda: keyboard(tg, ASKED))
        asked = next(t for (c, m), t in tg.texts.items() if ASKED in t)

        async def press_while_eve_is_answered(data: str) -> None:
            openai_fake.hang_next(2.0)
            calls = len(openai_fake.requests)
            await tg.send_text(eve, EVE, "hello")
            await wait_for(lambda: len(openai_fake.requests) > calls)
            query = await press(tg, ANA, ana, asked, data)
            assert "text" not in await wait_for(lambda: answered(tg, query))

        await press_while_eve_is_answered(buttons[confirm.APPROVE])
        assert ran(tmp_path) == [], "the press was answered before the check let it run"
        await wait_for(lambda: message_of(tg, ana, DONE), timeout=10)
        # Refused once the check ends: too late for an alert, so the chat says it.
        await press_while_eve_is_answered(confirm.press_data("0" * 18, True))
        await wait_for(lambda: [t for (c, m), t in tg.texts.items()
                                if c == ana["id"] and t == UnknownConfirmation.user_message],
                       timeout=10)
    assert ran(tmp_path) == ["delete_note 7"]
    assert not [c for c in tg.refused if c.method == "answerCallbackQuery"]


async def test_discord_only_the_asker_may_approve(
        llm_service: ChatService, toolbox: Toolbox, openai_fake: FakeOpenAI,
        tmp_path: Path) -> None:
    tools(llm_service, toolbox, openai_fake)
    async with fake_discord() as fake, running(fake, llm_service) as api:
        await api.say(ALICE, "delete note 7", mention=True)
        asked = await wait_for(lambda: next((m for m in api.sent(CHANNEL)
                                             if api.buttons(int(m["id"]))), None))
        approve, deny = api.buttons(int(asked["id"]))
        assert confirm.parse_press(approve) is not None and deny.startswith("cf:n:")
        iid = await api.press(int(asked["id"]), approve, BOB)
        await wait_for(lambda: [c for c in api.requests("POST", "/webhooks/")])
        assert ran(tmp_path) == [] and callbacks(api, iid) == [{"type": 6}]
        refusal = api.requests("POST", "/webhooks/")[-1].body
        # Bob's conversation in this channel is his own: nothing of Alice's waits there.
        assert refusal["content"] == UnknownConfirmation().user_message
        await api.press(int(asked["id"]), approve, ALICE)
        await wait_for(lambda: any(m["content"] == DONE for m in api.sent(CHANNEL)))
    assert ran(tmp_path) == ["delete_note 7"]
    mine = SessionKey.channel_member("discord", GUILD, CHANNEL,
                                     user=UserKey.of("discord", ALICE["id"]))
    assert [m.text for m in await llm_service.history(mine)][-1] == DONE


async def test_slack_deny_tells_the_model_and_runs_nothing(
        llm_service: ChatService, toolbox: Toolbox, openai_fake: FakeOpenAI,
        tmp_path: Path) -> None:
    llm_service.tools = toolbox.tools
    openai_fake.answer = on_cue(WRITE, "All right, I left it.")
    async with fake_slack() as fake, slack_running(fake, llm_service) as slack:
        await slack.event(dm("delete note 7"))
        update = await wait_for(lambda: next(
            (u for u in fake.called("chat.update") if _actions(u)), None))
        ids = [e["action_id"] for e in _actions(update)]
        assert ids == ["switchboard_answer_0", "switchboard_answer_1"]
        await slack.send(_pressed(fake, update, _actions(update)[1]))
        await wait_for(lambda: "All right, I left it." in fake.messages("DU1").values())
    assert ran(tmp_path) == []
    history = await llm_service.history(SessionKey.direct(UserKey.of("slack", "T1", "U1")))
    assert history[-2].text.startswith("Denied")


def _actions(update: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = update.get("blocks") or []
    return [e for b in blocks if b.get("type") == "actions" for e in b.get("elements", [])]


def _pressed(fake: Any, update: dict[str, Any], action: dict[str, Any]) -> str:
    """A `block_actions` payload as Slack posts it when `action` under `update` is pressed."""
    channel = update["channel"]
    message = {"type": "message", "user": BOT_USER, "bot_id": BOT_ID, "ts": update["ts"],
               "text": update["text"], "blocks": update["blocks"]}
    body = {"type": "block_actions", "token": "legacy", "api_app_id": "A1",
            "team": {"id": "T1", "domain": "t1"}, "user": {"id": "U1", "team_id": "T1"},
            "channel": {"id": channel, "name": "x"}, "message": message,
            "container": {"type": "message", "message_ts": update["ts"],
                          "channel_id": channel, "is_ephemeral": False},
            "trigger_id": "1.2", "response_url": f"{fake.url}/respond/cf1",
            "actions": [{**action, "block_id": "regenerate", "action_ts": "1.3"}]}
    return urlencode({"payload": json.dumps(body)})
