"""Discord start-up: the refused intent, a wrong token, sharding and the address settings."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
from discord.gateway import DiscordWebSocket
from discord.http import Route

from adapters.discord_bot.gateway import INTENT_HELP, run
from adapters.discord_bot.settings import DiscordSettings
from core.errors import ConfigError
from core.service import ChatService
from tests.fakes.common import wait_for
from tests.fakes.discord_api import TOKEN, FakeDiscord, fake_discord
from tests.test_discord import ALICE, DM_ALICE, bot_settings, running


@pytest.fixture
async def discord_api() -> AsyncIterator[FakeDiscord]:
    async with fake_discord() as fake:
        yield fake


@pytest.fixture
def settings_for(discord_api: FakeDiscord) -> Callable[..., DiscordSettings]:
    return lambda **env: bot_settings(discord_api, **env)


async def test_refused_message_content_intent_stops_with_one_clear_error(
        discord_api: FakeDiscord, service: ChatService,
        settings_for: Callable[..., DiscordSettings]) -> None:
    discord_api.message_content_allowed = False
    with pytest.raises(ConfigError, match="Message Content Intent") as error:
        await asyncio.wait_for(run(service, settings_for(), asyncio.Event()), 10)
    assert error.value.variable == "DISCORD_BOT_TOKEN"
    assert not discord_api.requests("POST", "/messages")


async def test_wrong_token_is_a_config_error(
        service: ChatService, settings_for: Callable[..., DiscordSettings]) -> None:
    with pytest.raises(ConfigError, match="rejected this token"):
        await run(service, settings_for(DISCORD_BOT_TOKEN="wrong-token"), asyncio.Event())


async def test_auto_sharded_client_answers_on_the_configured_gateway(
        discord_api: FakeDiscord, llm_service: ChatService) -> None:
    discord_api.gateway_bot_url = "ws://127.0.0.1:9/nothing-here"  # must not be used
    async with running(discord_api, llm_service, DISCORD_AUTO_SHARD="true") as api:
        await api.say(ALICE, "sharded", channel=DM_ALICE, guild=False)
        await wait_for(lambda: api.texts(DM_ALICE) == ["echo: sharded"])
    assert api.requests("GET", "/gateway/bot")  # the recommended shard count
    assert api.identifies[0]["shard"] == [0, 1]


async def test_cli_prints_one_line_for_the_refused_intent(
        discord_api: FakeDiscord, redis_url: str, prefix: str,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    discord_api.message_content_allowed = False
    for name, value in {"DISCORD_BOT_TOKEN": TOKEN, "REDIS_URL": redis_url,
                        "DISCORD_API_URL": f"{discord_api.base}/api/v10",
                        "DISCORD_GATEWAY_URL": discord_api.gateway_url,
                        "SWITCHBOARD_REDIS_PREFIX": prefix}.items():
        monkeypatch.setenv(name, value)
    from bots.cli import main

    assert await asyncio.wait_for(asyncio.to_thread(main, ["run", "discord"]), 20) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines()[-1] == f"switchboard: DISCORD_BOT_TOKEN: {INTENT_HELP}"
    assert "Traceback" not in err


async def test_a_bare_api_url_gets_the_version_and_addresses_are_restored(
        discord_api: FakeDiscord, llm_service: ChatService) -> None:
    saved = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    async with running(discord_api, llm_service, DISCORD_API_URL=discord_api.base) as api:
        assert f"{api.base}/api/v10" == Route.BASE
        await api.say(ALICE, "via the proxy", channel=DM_ALICE, guild=False)
        await wait_for(lambda: api.texts(DM_ALICE) == ["echo: via the proxy"])
    assert saved == (Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY)
