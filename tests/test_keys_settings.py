"""Session keys render platform-first and never collide; settings refuse bad values by name."""

from __future__ import annotations

import pytest

from core.errors import ConfigError, RateLimited
from core.keys import KeySpace, Scope, SessionKey, UserKey
from core.settings import CoreSettings, Rate, load


def test_keys_render_platform_first() -> None:
    user = UserKey.of("slack", "T1", "U5")
    assert str(user) == "slack:T1:U5"
    assert str(SessionKey.direct(user)) == "slack:T1:U5"
    assert str(SessionKey.thread("slack", "T1", "C9", "1712.33")) == "slack:T1:C9:1712.33"
    member = SessionKey.channel_member("discord", "G1", "C2", user=UserKey.of("discord", "7"))
    assert str(member) == "discord:G1:C2:u:7" and member.scope is Scope.CHANNEL_MEMBER
    assert str(SessionKey.channel("discord", "G1", "C2")) == "discord:G1:C2:all"


def test_separators_and_hash_tags_in_ids_are_escaped() -> None:
    tricky = UserKey.of("cli", "a:b{c}")
    assert str(tricky) == "cli:a%3Ab%7Bc%7D"
    assert str(UserKey.of("cli", "a", "b")) != str(tricky)
    history = KeySpace("sb:").session(str(SessionKey.direct(tricky))).history
    assert history == "sb:{s:cli:a%3Ab%7Bc%7D}:h"


def test_same_numeric_id_on_two_platforms_differs() -> None:
    assert str(UserKey.of("telegram", "42")) != str(UserKey.of("discord", "42"))


@pytest.mark.parametrize(("text", "rate"), [("20/minute", Rate(20, 60)), ("5/10s", Rate(5, 10)),
                                            ("100/hour", Rate(100, 3600)), ("3/sec", Rate(3, 1))])
def test_rates_parse(text: str, rate: Rate) -> None:
    assert Rate.parse(text) == rate


@pytest.mark.parametrize("text", ["", "fast", "0/minute", "5/fortnight", "-1/s"])
def test_bad_rates_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        Rate.parse(text)


def test_settings_error_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWITCHBOARD_MAX_INPUT_CHARS", "0")
    with pytest.raises(ConfigError) as caught:
        load(CoreSettings)
    assert caught.value.variable == "SWITCHBOARD_MAX_INPUT_CHARS"


def test_blank_optional_values_mean_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "")
    monkeypatch.setenv("REDIS_URL", " ")
    settings = load(CoreSettings)
    assert settings.openai_api_key is None and settings.redis_url is None


def test_rate_limited_says_when() -> None:
    assert "Try again in 3 seconds" in RateLimited(2.1).user_message
    assert "Try again in 1 second." in RateLimited(0.2).user_message
