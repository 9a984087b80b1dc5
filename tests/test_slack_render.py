"""Slack rendering and settings: Markdown pages, neutralised mentions, stream blocks."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters import render
from adapters.appending import settled, streamable
from adapters.paging import looks
from adapters.render import WORD_JOINER
from adapters.slack import SlackSettings
from adapters.slack.answer import markdown_pages
from core.errors import ConfigError
from core.settings import load


@pytest.mark.parametrize(("markdown", "shown"), [
    ("**bold** and *italic*", "**bold** and *italic*"),
    ("# Title\n- one\n- two", "# Title\n\n- one\n- two"),
    ("a & b < c > d", "a & b \\< c \\> d"),
])
def test_posted_pages_are_standard_markdown(markdown: str, shown: str) -> None:
    assert looks(markdown_pages(markdown, 3900), final=True) == [shown]


@pytest.mark.parametrize("unsafe", ["<!channel>", "<!here|here>", "<!everyone>", "<@U123>",
                                    "<!subteam^S1>", "[x](!channel)", "[x](javascript:alert)"])
def test_model_output_cannot_mention(unsafe: str) -> None:
    [markdown] = looks(markdown_pages(f"hi {unsafe} there", 3900), final=True)
    [mrkdwn] = render.slack_mrkdwn(f"hi {unsafe} there")
    for text in (markdown, mrkdwn):
        assert "<!" not in text and "<@" not in text and "<javascript" not in text
    assert "[x](" not in markdown  # an unsafe link is only its (escaped) text


def test_bare_broadcasts_neutralised() -> None:
    assert render.slack_markdown("ping @channel and @here") == \
        [f"ping @{WORD_JOINER}channel and @{WORD_JOINER}here"]


def test_a_stream_takes_whole_blocks_only() -> None:
    text = "para one\n\n```\ncode\n\nmore\n```\nafter\n\nlast"
    assert settled(text) == text[:text.index("last")]
    assert settled(text[:text.index("more")]) == "para one\n\n"  # not inside the code
    assert settled("one paragraph, still growing") == ""
    assert settled("**bo") == "" and settled("**bold**\n\n**it") == "**bold**\n\n"


def test_plain_prose_streams_by_words() -> None:
    assert streamable("Hello there, my frie") == "Hello there, my "
    assert streamable("Done.\n\nSo it is **bol") == "Done.\n\nSo it is "
    assert streamable("Done.\n\n- a list") == "Done.\n\n"  # markup first: the block waits
    assert streamable("Über 50% of it") == "Über 50% of "
    assert streamable("Line one\nline two") == "Line "  # its first line only


def test_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET"):
        load(SlackSettings)
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1")
    monkeypatch.setenv("SLACK_API_URL", "http://127.0.0.1:9/api")
    monkeypatch.setenv("SLACK_ALLOWED_CHANNELS", "C1, C2")
    settings = load(SlackSettings)
    assert settings.socket_mode and settings.api_url == "http://127.0.0.1:9/api/"
    assert settings.allows("T1", "C2") and settings.allows("T1", "D9")
    assert not settings.allows("T1", "C3")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "changeme")
    with pytest.raises(ConfigError, match="SLACK_BOT_TOKEN"):
        load(SlackSettings)


def test_manifest_asks_for_what_the_adapter_uses() -> None:
    import yaml  # dev dependency, only needed here

    with open(Path(__file__).parent.parent / "slack" / "manifest.yml") as file:
        manifest = yaml.safe_load(file)
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == {
        "app_mentions:read", "assistant:write", "chat:write", "commands", "im:history",
        "channels:history", "groups:history", "users:read", "files:read", "files:write",
        "im:write"}
    assert set(manifest["settings"]["event_subscriptions"]["bot_events"]) == {
        "app_mention", "assistant_thread_started", "assistant_thread_context_changed",
        "message.im", "message.channels", "message.groups"}
    assert [c["command"] for c in manifest["features"]["slash_commands"]] == ["/switchboard"]
