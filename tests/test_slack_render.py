"""Slack rendering and settings: mrkdwn conversion, neutralised mentions, validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.slack import SlackSettings
from adapters.slack.render import WORD_JOINER, neutralise_markdown, to_mrkdwn
from core.errors import ConfigError
from core.settings import load


@pytest.mark.parametrize(("markdown", "mrkdwn"), [
    ("**bold** and *italic*", "*bold* and _italic_"),
    ("~~gone~~", "~gone~"),
    ("# Title\n- one\n- two", "*Title*\n• one\n• two"),
    ("see [docs](https://example.com/a?b=1&c=2)", "see <https://example.com/a?b=1&amp;c=2|docs>"),
    ("```python\nif a < b and c:\n    pass\n```", "```\nif a &lt; b and c:\n    pass\n```"),
    ("`**not bold**` but **bold**", "`**not bold**` but *bold*"),
    ("a & b < c > d", "a &amp; b &lt; c &gt; d"),
])
def test_markdown_to_mrkdwn(markdown: str, mrkdwn: str) -> None:
    assert to_mrkdwn(markdown) == mrkdwn


@pytest.mark.parametrize("unsafe", ["<!channel>", "<!here|here>", "<!everyone>", "<@U123>",
                                    "<!subteam^S1>", "[x](!channel)", "[x](javascript:alert)"])
def test_model_output_cannot_mention(unsafe: str) -> None:
    text = to_mrkdwn(f"hi {unsafe} there")
    assert "<!" not in text and "<@" not in text and "<javascript" not in text


def test_bare_broadcasts_and_stream_markdown_neutralised() -> None:
    assert to_mrkdwn("ping @channel and @here") == \
        f"ping @{WORD_JOINER}channel and @{WORD_JOINER}here"
    streamed = neutralise_markdown("**hey** <!channel> <@U1> @everyone")
    assert streamed.startswith("**hey**")
    assert "<!" not in streamed and "<@" not in streamed and "@everyone" not in streamed


def test_unclosed_code_block_is_closed() -> None:
    assert to_mrkdwn("code:\n```\nx = 1") == "code:\n```\nx = 1\n```"


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
        "channels:history", "groups:history", "users:read"}
    assert set(manifest["settings"]["event_subscriptions"]["bot_events"]) == {
        "app_mention", "assistant_thread_started", "assistant_thread_context_changed",
        "message.im", "message.channels", "message.groups"}
    assert [c["command"] for c in manifest["features"]["slash_commands"]] == ["/switchboard"]
