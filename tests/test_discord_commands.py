"""Discord slash commands end to end: /reset, /forget, /help, answered in time; who may reset."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from adapters import commands
from adapters.commands import RESET_DONE, forgotten
from adapters.discord_bot.commands import STYLE
from core.keys import SessionKey, UserKey
from core.service import ChatService
from tests.fakes.common import wait_for
from tests.fakes.discord_api import (
    CHANNEL,
    GUILD,
    MANAGE_MESSAGES,
    SHARED,
    THREAD,
    FakeDiscord,
    fake_discord,
)
from tests.test_discord import ALICE, BOB, DM_ALICE, callbacks, no_pings, running

ALICE_KEY = UserKey.of("discord", 4001)
DEFERRED = {"type": 5, "data": {"flags": 64}}  # "thinking…", visible only to the caller


@pytest.fixture
async def discord_api() -> AsyncIterator[FakeDiscord]:
    async with fake_discord() as fake:
        yield fake


async def stored(service: ChatService, session: SessionKey, count: int) -> None:
    """Wait until a conversation holds `count` messages (a turn is stored when it completes)."""
    for _ in range(250):
        if len(await service.history(session)) >= count:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{session} never had {count} messages")


def followups(api: FakeDiscord) -> list[dict[str, object]]:
    return [c.body for c in api.requests("POST", "/webhooks/")]


async def test_reset_starts_the_own_conversation_over_without_permissions(
        discord_api: FakeDiscord, llm_service: ChatService) -> None:
    member = SessionKey.channel_member("discord", GUILD, CHANNEL, user=ALICE_KEY)
    direct = SessionKey.direct(ALICE_KEY)
    async with running(discord_api, llm_service) as api:
        await api.say(ALICE, "remember me", mention=True)
        await api.say(ALICE, "me too", channel=DM_ALICE, guild=False)
        await stored(llm_service, member, 2)
        await stored(llm_service, direct, 2)
        iid = await api.command("reset", ALICE)  # no Manage Messages: it is her own
        await api.command("reset", ALICE, channel=DM_ALICE, guild=False)
        await wait_for(lambda: len(followups(api)) == 2)
    assert callbacks(api, iid) == [DEFERRED]
    assert [f["content"] for f in followups(api)] == [RESET_DONE] * 2
    assert all(f["flags"] == 64 for f in followups(api)) and no_pings(
        api.requests("POST", "/webhooks/"))
    assert await llm_service.history(member) == await llm_service.history(direct) == []


async def test_resetting_a_shared_conversation_needs_manage_messages(
        discord_api: FakeDiscord, llm_service: ChatService) -> None:
    shared = SessionKey.channel("discord", GUILD, SHARED)
    thread = SessionKey.thread("discord", GUILD, THREAD)
    async with running(discord_api, llm_service, DISCORD_SHARED_CHANNELS=f"{SHARED}") as api:
        await api.say(ALICE, "team notes", channel=SHARED, mention=True)
        await api.say(ALICE, "thread notes", channel=THREAD, mention=True)
        await stored(llm_service, shared, 2)
        await stored(llm_service, thread, 2)
        refused = [await api.command("reset", BOB, channel=c) for c in (SHARED, THREAD)]
        await wait_for(lambda: all(callbacks(api, i) for i in refused))
        assert len(await llm_service.history(shared)) == 2  # untouched
        await api.command("reset", BOB, channel=SHARED, permissions=MANAGE_MESSAGES)
        await wait_for(lambda: followups(api))
    for iid in refused:  # answered at once, privately, with the reason
        [answer] = callbacks(api, iid)
        assert answer["type"] == 4
        assert answer["data"]["content"] == commands.refusal("reset", STYLE.who)
        assert answer["data"]["flags"] == 64
    assert await llm_service.history(shared) == []
    assert len(await llm_service.history(thread)) == 2


async def test_reset_and_forget_defer_before_touching_redis(
        discord_api: FakeDiscord, llm_service: ChatService,
        monkeypatch: pytest.MonkeyPatch) -> None:
    deferred_first: list[bool] = []
    real_reset, real_forget = llm_service.reset, llm_service.forget

    def deferred() -> bool:  # the defer callback already reached Discord
        return len(discord_api.requests("POST", "/interactions/")) > len(deferred_first)

    async def reset(session: SessionKey, user: UserKey) -> None:
        deferred_first.append(deferred())
        await real_reset(session, user)

    async def forget(user: UserKey) -> int:
        deferred_first.append(deferred())
        return await real_forget(user)

    monkeypatch.setattr(llm_service, "reset", reset)
    monkeypatch.setattr(llm_service, "forget", forget)
    async with running(discord_api, llm_service) as api:
        first = await api.command("reset", ALICE)
        await wait_for(lambda: len(followups(api)) == 1)
        second = await api.command("forget", ALICE)
        await wait_for(lambda: len(followups(api)) == 2)
    assert deferred_first == [True, True]
    assert callbacks(api, first) == callbacks(api, second) == [DEFERRED]


async def test_forget_erases_the_user(discord_api: FakeDiscord,
                                      llm_service: ChatService) -> None:
    async with running(discord_api, llm_service) as api:
        await api.say(ALICE, "private", channel=DM_ALICE, guild=False)
        await api.say(ALICE, "in a channel", mention=True)
        await stored(llm_service, SessionKey.direct(ALICE_KEY), 2)
        await stored(llm_service,
                     SessionKey.channel_member("discord", GUILD, CHANNEL, user=ALICE_KEY), 2)
        await api.command("forget", ALICE, channel=DM_ALICE, guild=False)
        await wait_for(lambda: followups(api))
    assert followups(api)[0]["content"] == forgotten(2)
    assert followups(api)[0]["content"].endswith("(2 conversations).")
    assert await llm_service.sessions(ALICE_KEY) == []


async def test_help_answers_at_once_and_commands_are_synced(
        discord_api: FakeDiscord, llm_service: ChatService) -> None:
    async with running(discord_api, llm_service) as api:
        iid = await api.command("help", BOB)
        await wait_for(lambda: callbacks(api, iid))
    answer = callbacks(api, iid)[0]
    assert answer["type"] == 4 and answer["data"]["flags"] == 64
    assert "/reset" in answer["data"]["content"]
    assert answer["data"]["allowed_mentions"] == {"parse": []}
    synced = api.requests("PUT", "/commands")[0].body
    assert sorted(c["name"] for c in synced) == ["export", "forget", "help", "link", "model",
                                                 "persona", "reset", "unlink", "usage",
                                                 "whoami"]
