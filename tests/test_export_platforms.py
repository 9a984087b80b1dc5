"""`/export` on every chat platform: the person's conversations as a JSON file, sent where only
they read it (a Telegram document, a Discord attachment, a Slack upload into the DM), through
the real SDKs to the fakes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from adapters import commands
from adapters.commands import EXPORTED, IN_PRIVATE
from adapters.exports import TOO_BIG, too_big
from adapters.slack.slash import SENT
from core.errors import UNEXPECTED
from core.export import FORMAT, ExportFile
from core.keys import SessionKey, UserKey
from core.service import ChatService
from tests.fakes.common import wait_for
from tests.fakes.discord_api import CHANNEL, GUILD, fake_discord
from tests.fakes.slack_api import fake_slack
from tests.fakes.telegram_api import chat_of, fake_telegram, shown, telegram_bot, user
from tests.test_discord import ALICE as DISCORD_ALICE
from tests.test_discord import DM_ALICE, running
from tests.test_discord_commands import DEFERRED, followups, stored
from tests.test_slack import dm
from tests.test_slack import running as slack_running

TG_ALICE = user(11, "Alice")
GROUP: dict[str, Any] = {"id": -100123, "type": "supergroup", "title": "Team"}


def written(data: bytes) -> list[str]:
    """Every message the person wrote, from an export file (which must parse as one)."""
    document = json.loads(data)
    assert document["format"] == FORMAT
    return [m["text"] for c in document["conversations"] for m in c["messages"]
            if m["role"] == "human"]


@pytest.mark.parametrize(("size", "limit", "said"), [
    (10, 10, None),
    (11, 10, TOO_BIG.format(size="0.0 MB", limit="0.0 MB")),
    (60_000_000, 50_000_000, TOO_BIG.format(size="60.0 MB", limit="50.0 MB")),
])
def test_a_file_over_the_platforms_limit_is_not_sent(size: int, limit: int,
                                                     said: str | None) -> None:
    assert too_big(ExportFile("x.json", b"x" * size), limit) == said


def test_export_is_a_command_answered_in_private_only() -> None:
    assert "export" in commands.BY_NAME and "export" in commands.PRIVATE


async def test_telegram_sends_the_export_as_a_document(llm_service: ChatService) -> None:
    alice = chat_of(TG_ALICE)
    async with fake_telegram() as tg, telegram_bot(tg, llm_service):
        for text in ("my cat is Tom", "and my dog is Rex"):
            await tg.send_text(alice, TG_ALICE, text)
            await wait_for(lambda t=text: f"echo: {t}" in shown(tg, 11))  # type: ignore[misc]
        await stored(llm_service, SessionKey.direct(UserKey.of("telegram", 11)), 4)
        await tg.send_text(alice, TG_ALICE, "/export")
        await wait_for(lambda: tg.documents)
    [sent] = tg.documents
    assert sent.chat_id == 11 and sent.caption == EXPORTED
    assert sent.name.startswith("switchboard-export-") and sent.name.endswith(".json")
    assert written(sent.data) == ["my cat is Tom", "and my dog is Rex"]


async def test_telegram_refuses_an_export_in_a_group(llm_service: ChatService) -> None:
    async with fake_telegram() as tg, telegram_bot(tg, llm_service):
        await tg.send_text(GROUP, TG_ALICE, "/export@switchboard_test_bot")
        await wait_for(lambda: IN_PRIVATE in shown(tg, GROUP["id"]))
    assert tg.documents == [] and tg.called("sendDocument") == []


async def test_discord_attaches_the_export_to_the_private_follow_up(
        llm_service: ChatService) -> None:
    alice = UserKey.of("discord", 4001)
    async with fake_discord() as fake, running(fake, llm_service) as api:
        await api.say(DISCORD_ALICE, "private words", channel=DM_ALICE, guild=False)
        await api.say(DISCORD_ALICE, "channel words", mention=True)
        await stored(llm_service, SessionKey.direct(alice), 2)
        await stored(llm_service,
                     SessionKey.channel_member("discord", GUILD, CHANNEL, user=alice), 2)
        iid = await api.command("export", DISCORD_ALICE)
        await wait_for(lambda: followups(api))
    assert [c.body for c in api.requests("POST", f"/interactions/{iid}/")] == [DEFERRED]
    [call] = api.requests("POST", "/webhooks/")
    assert call.body["content"] == EXPORTED and call.body["flags"] == 64  # ephemeral
    [(name, data)] = call.files
    assert name.endswith(".json")
    assert sorted(written(data)) == ["channel words", "private words"]


async def test_slack_uploads_the_export_into_the_dm(service: ChatService) -> None:
    session = SessionKey.direct(UserKey.of("slack", "T1", "U1"))
    async with fake_slack() as fake, slack_running(fake, service) as slack:
        for text in ("remember the milk", "and the eggs"):
            await slack.event(dm(text))
            await slack.said("DU1", text)
        await stored(service, session, 4)
        assert (await slack.command("export", channel="C1")).status_code == 200
        await wait_for(lambda: fake.responses)
    assert fake.responses[0]["text"] == SENT
    assert fake.responses[0]["response_type"] == "ephemeral"
    assert fake.called("conversations.open")[0]["users"] == "U1"
    [(name, data)] = fake.shared("DU1")
    assert name.endswith(".json")
    assert written(data) == ["remember the milk", "and the eggs"]
    assert fake.called("files.completeUploadExternal")[0]["initial_comment"] == EXPORTED



async def test_slack_says_when_the_upload_is_refused(service: ChatService) -> None:
    async with fake_slack() as fake, slack_running(fake, service) as slack:
        fake.refuse["conversations.open"] = "missing_scope"  # a manifest without im:write
        await slack.command("export")
        await wait_for(lambda: fake.responses)
    said = fake.responses[0]["text"]
    assert said.startswith(UNEXPECTED) and "(ref " in said
    assert fake.called("files.getUploadURLExternal") == [] and fake.uploads == {}
