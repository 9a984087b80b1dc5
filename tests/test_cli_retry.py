"""`/retry` in `switchboard chat`: the last answer asked for again, in its place."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_cli import switchboard


@pytest.fixture
def project_root(monkeypatch: pytest.MonkeyPatch) -> Path:
    root = Path(__file__).resolve().parent.parent
    monkeypatch.chdir(root)
    return root


def test_retry_answers_the_last_message_again(project_root: Path, redis_url: str,
                                              prefix: str) -> None:
    env = {"REDIS_URL": redis_url, "SWITCHBOARD_REDIS_PREFIX": prefix}
    out = switchboard("chat", "--user", "di", stdin=b"/retry\nhello\n/retry\n/history\n",
                      env=env).stdout.decode()
    stale, _, rest = out.partition("\n")
    assert stale == "Only the latest answer can be regenerated. Ask again instead."
    answers, _, history = rest.partition("di: hello")
    assert answers.count("You said: “hello”") == 2, "answered, then answered again"
    assert "first message" in answers.split("You said")[2], "the same question again"
    assert history.count("switchboard: ") == 1, "one answer kept, not two"
    assert "/retry" in switchboard("chat", "--user", "di", stdin=b"/help\n",
                                   env=env).stdout.decode()
