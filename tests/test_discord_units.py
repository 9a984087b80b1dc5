"""The Discord adapter's pure parts: its settings, and the shared splitter at 2,000."""

from __future__ import annotations

import pytest

from adapters.discord_bot.settings import DiscordSettings
from adapters.textsplit import split as split_text
from adapters.textsplit import utf16_len as utf16
from core.errors import ConfigError
from core.settings import load


def test_paragraphs_are_packed_and_rejoin_exactly() -> None:
    text = "\n\n".join(f"p{i} " + "x" * 700 for i in range(8))
    parts = split_text(text, 2000)
    assert all(len(p) <= 2000 for p in parts) and "\n\n".join(parts) == text
    assert all(p.startswith("p") for p in parts)  # every cut is at a paragraph boundary


def test_a_long_code_block_is_split_with_balanced_fences() -> None:
    code = "```py\n" + "\n".join(f"line_{i} = {i}" for i in range(400)) + "\n```"
    parts = split_text(f"intro\n\n{code}", 2000)
    assert parts[0] == "intro"  # the code does not fit beside it: it starts a new message
    assert len(parts) > 2 and all(len(p) <= 2000 for p in parts)
    assert all(p.startswith("```py\n") and p.endswith("\n```") for p in parts[1:])
    assert all(p.count("```") == 2 for p in parts[1:])


def test_an_unclosed_fence_is_closed_and_long_lines_are_cut() -> None:
    assert split_text("```py\nx = 1", 2000) == ["```py\nx = 1\n```"]
    parts = split_text("word " * 1000, 2000)
    assert all(len(p) <= 2000 for p in parts) and " ".join(parts).split() == ["word"] * 1000
    assert [len(p) for p in split_text("a" * 4500, 2000)] == [2000, 2000, 500]


def test_length_function_is_pluggable() -> None:
    parts = split_text("😀" * 3000, 2000, utf16)
    assert all(utf16(p) <= 2000 for p in parts) and "".join(parts) == "😀" * 3000


def test_settings_parse_lists_and_sharding() -> None:
    settings = DiscordSettings(DISCORD_BOT_TOKEN="t0ken", DISCORD_SHARED_CHANNELS="1, 2;3",
                               DISCORD_SHARD_COUNT="4", DISCORD_SHARD_IDS="0,2")
    assert settings.shared_channels == {1, 2, 3} and settings.allowed_guilds == frozenset()
    assert settings.shard_ids == (0, 2) and settings.sharding


def test_api_url_gets_the_api_path_only_when_it_has_none() -> None:
    def api(url: str) -> str | None:
        return DiscordSettings(DISCORD_BOT_TOKEN="t", DISCORD_API_URL=url).api_url
    assert api("http://proxy:8080/") == "http://proxy:8080/api/v10"
    assert api("https://proxy.example/api/v10/") == "https://proxy.example/api/v10"
    assert api("http://proxy:8080/discord/api/v9") == "http://proxy:8080/discord/api/v9"


@pytest.mark.parametrize(("env", "variable"), [
    ({}, "DISCORD_BOT_TOKEN"),
    ({"DISCORD_BOT_TOKEN": "changeme"}, "DISCORD_BOT_TOKEN"),
    ({"DISCORD_BOT_TOKEN": "t", "DISCORD_SHARD_IDS": "1"}, "DISCORD_SHARD_IDS"),
    ({"DISCORD_BOT_TOKEN": "t", "DISCORD_SHARD_COUNT": "2", "DISCORD_SHARD_IDS": "2"},
     "DISCORD_SHARD_IDS"),
    ({"DISCORD_BOT_TOKEN": "t", "DISCORD_API_URL": "discord.com"}, "DISCORD_API_URL"),
    ({"DISCORD_BOT_TOKEN": "t", "DISCORD_API_URL": "wss://p.example"}, "DISCORD_API_URL"),
    ({"DISCORD_BOT_TOKEN": "t", "DISCORD_GATEWAY_URL": "https://p.example"},
     "DISCORD_GATEWAY_URL"),
    ({"DISCORD_BOT_TOKEN": "t", "DISCORD_ALLOWED_GUILDS": "abc"}, "DISCORD_ALLOWED_GUILDS"),
])
def test_bad_settings_name_the_variable(env: dict[str, str], variable: str,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as error:
        load(DiscordSettings)
    assert error.value.variable == variable
