"""The Discord adapter's pure parts: settings, pages of rendered Markdown, attachments."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from adapters.discord_bot.files import allowed_url, remote
from adapters.discord_bot.reply import pages
from adapters.discord_bot.settings import MESSAGE_LIMIT, DiscordSettings
from adapters.paging import looks
from core.errors import ConfigError, DownloadFailed
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


# Attachments: which addresses are fetched, and what a `Remote` is made of.

API = "http://127.0.0.1:8080/api/v10"


@pytest.mark.parametrize(("url", "api_url", "allowed"), [
    ("https://cdn.discordapp.com/attachments/1/2/a.png?ex=1&hm=2", None, True),
    ("https://media.discordapp.net/attachments/1/2/a.png", None, True),
    ("https://CDN.DiscordApp.com/attachments/1/2/a.png", None, True),
    ("https://cdn.discordapp.com:443/attachments/1/2/a.png", None, True),
    ("http://cdn.discordapp.com/attachments/1/2/a.png", None, False),  # not over TLS
    ("https://cdn.discordapp.com:8443/attachments/1/2/a.png", None, False),
    ("https://cdn.discordapp.com.evil.example/a.png", None, False),
    ("https://evil.example/cdn.discordapp.com/a.png", None, False),
    ("https://cdn.discordapp.com@evil.example/a.png", None, False),
    ("https://user:pw@cdn.discordapp.com/a.png", None, False),
    ("https://discordapp.com/attachments/1/2/a.png", None, False),
    ("ftp://cdn.discordapp.com/a.png", None, False),
    ("file:///etc/passwd", None, False),
    ("/attachments/1/2/a.png", None, False),
    ("", None, False),
    ("https://cdn.discordapp.com:99999/a.png", None, False),  # malformed port
    ("http://127.0.0.1:8080/attachments/1/2/a.png", API, True),  # the configured API's host
    ("http://127.0.0.1:8080/attachments/1/2/a.png", None, False),
    ("http://127.0.0.1:8081/attachments/1/2/a.png", API, False),
    ("https://127.0.0.1:8080/attachments/1/2/a.png", API, False),
    ("http://localhost:8080/attachments/1/2/a.png", API, False),
    ("http://169.254.169.254/latest/meta-data", API, False),
    ("https://proxy.example/attachments/a.png", "https://proxy.example/api/v10", True),
    ("https://proxy.example:443/a.png", "https://proxy.example/api/v10", True),
    ("https://cdn.discordapp.com/a.png", API, True),
])
def test_allowed_url(url: str, api_url: str | None, allowed: bool) -> None:
    assert allowed_url(url, api_url) is allowed


@dataclass
class Stub:
    filename: str
    content_type: str | None
    size: int
    url: str
    reads: int = 0

    async def read(self) -> bytes:
        self.reads += 1
        return b"data"


@pytest.mark.parametrize(("stub", "expected"), [
    (Stub("a.png", "image/png", 10, "https://cdn.discordapp.com/a.png"),
     ("a.png", "image/png", 10)),
    (Stub("voice-message.ogg", "audio/ogg", 9000, "https://cdn.discordapp.com/v.ogg"),
     ("voice-message.ogg", "audio/ogg", 9000)),
    (Stub("notes", None, 3, "https://cdn.discordapp.com/notes"), ("notes", "", 3)),
])
async def test_remote_keeps_name_claim_and_announced_size(
        stub: Stub, expected: tuple[str, str, int]) -> None:
    made = remote(stub, None)  # type: ignore[arg-type]  # the parts of an Attachment it reads
    assert (made.name, made.claimed_type, made.size) == expected
    assert await made.download() == b"data" and stub.reads == 1


async def test_a_foreign_remote_refuses_without_reading() -> None:
    stub = Stub("a.png", "image/png", 10, "https://evil.example/a.png")
    made = remote(stub, API)  # type: ignore[arg-type]
    with pytest.raises(DownloadFailed):
        await made.download()
    assert stub.reads == 0
