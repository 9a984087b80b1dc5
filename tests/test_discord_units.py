"""The Discord adapter's pure parts: its settings, and its pages of rendered Markdown."""

from __future__ import annotations

import pytest

from adapters.discord_bot.reply import pages
from adapters.discord_bot.settings import MESSAGE_LIMIT, DiscordSettings
from adapters.paging import looks
from core.errors import ConfigError
from core.settings import load
from tests.golden import GOLDEN


def _pages(text: str, final: bool = True) -> list[str]:
    return looks(pages(text, MESSAGE_LIMIT), final)


def test_paragraphs_are_packed_and_rejoin_exactly() -> None:
    text = "\n\n".join(f"p{i} " + "x" * 700 for i in range(8))
    parts = _pages(text)
    assert all(len(p) <= 2000 for p in parts) and "\n\n".join(parts) == text
    assert all(p.startswith("p") for p in parts)  # every cut is at a paragraph boundary


def test_a_long_code_block_is_split_with_balanced_fences() -> None:
    code = "```py\n" + "\n".join(f"line_{i} = {i}" for i in range(400)) + "\n```"
    parts = _pages(f"intro\n\n{code}")
    assert parts[0].startswith("intro")
    assert len(parts) > 2 and all(len(p) <= 2000 for p in parts)
    assert all(p.startswith("```py\n") and p.endswith("\n```") for p in parts[1:])
    assert all(p.count("```") == 2 for p in parts[1:])


def test_half_written_constructs_never_make_a_refused_message() -> None:
    assert _pages("```py\nx = 1", final=False) == ["```py\nx = 1\n```"]
    assert _pages("```", final=False) == []  # nothing to show yet: nothing is sent
    assert _pages("**half bo", final=False) == ["\\*\\*half bo"]
    parts = _pages("word " * 1000)
    assert all(len(p) <= 2000 for p in parts) and " ".join(parts).split() == ["word"] * 1000


def test_every_prefix_of_an_answer_makes_sendable_messages() -> None:
    answer = "\n\n".join(GOLDEN.values()) + "\n\n" + "word " * 500
    for end in range(0, len(answer), 11):  # what the pager may show mid-stream
        parts = _pages(answer[:end], final=False)
        assert all(0 < len(p) <= 2000 and p.strip() for p in parts)


def test_mentions_are_inert_in_every_page() -> None:
    parts = _pages("@everyone <@1> <@&2> <#3> @here")
    assert not any(m in "".join(parts) for m in ("@everyone", "<@1>", "<@&2>", "<#3>", "@here"))


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
