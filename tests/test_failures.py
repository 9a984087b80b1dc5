"""What a failure tells the user, table by table, and what it leaves in the log."""

from __future__ import annotations

import logging

import pytest

from adapters.failures import Notice, apology, notice
from core.errors import (
    UNEXPECTED,
    ConfigError,
    ConversationBusy,
    DuplicateTurn,
    EmptyMessage,
    InvalidText,
    MessageTooLong,
    ModelError,
    ModelTimeout,
    Overloaded,
    RateLimited,
    StoreUnavailable,
    SwitchboardError,
)

RID = "ab12cd34"
CASES: list[tuple[str, BaseException, Notice]] = [
    ("a redelivery is silent", DuplicateTurn("t1"), Notice("")),
    ("an empty message says so", EmptyMessage(), Notice(EmptyMessage.user_message)),
    ("too long names the limit", MessageTooLong(50), Notice(MessageTooLong(50).user_message)),
    ("invalid text says what to do", InvalidText(), Notice(InvalidText.user_message)),
    ("a rate limit is private", RateLimited(2.5),
     Notice("You're sending messages a bit fast. Try again in 3 seconds.", private=True)),
    ("a busy conversation", ConversationBusy(), Notice(ConversationBusy.user_message)),
    ("a full waiting line", Overloaded(), Notice(
        "I'm answering a lot of people right now. Please send that again in a minute.")),
    ("the store is down", StoreUnavailable(), Notice(StoreUnavailable.user_message)),
    ("the model failed", ModelError(), Notice(ModelError.user_message)),
    ("the model timed out", ModelTimeout(), Notice(ModelTimeout.user_message)),
    ("a bare core error is a bug", SwitchboardError(), Notice(apology(RID), request_id=RID)),
    ("a config error mid-turn is a bug", ConfigError("X", "bad"),
     Notice(apology(RID), request_id=RID)),
    ("anything else is a bug", KeyError("boom"), Notice(apology(RID), request_id=RID)),
    ("a runtime error is a bug", RuntimeError("x"), Notice(apology(RID), request_id=RID)),
]


@pytest.mark.parametrize(("exc", "expected"), [case[1:] for case in CASES],
                         ids=[case[0] for case in CASES])
def test_notice(exc: BaseException, expected: Notice) -> None:
    assert notice(exc, rid=RID) == expected


def test_an_apology_is_short_and_quotes_its_request_id() -> None:
    said = notice(ValueError("x"))
    assert said.text.startswith(UNEXPECTED) and said.request_id
    assert said.request_id in said.text and len(said.text) < len(UNEXPECTED) + 20
    assert said.request_id != notice(ValueError("x")).request_id


def test_a_bug_is_logged_with_its_id_and_traceback_not_message_text(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    try:
        raise RuntimeError("internal detail")
    except RuntimeError as exc:
        said = notice(exc, where="discord session=discord:G1:C2:u:7")
    record = next(r for r in caplog.records if r.name == "switchboard.failures")
    assert record.levelno == logging.ERROR and record.exc_info is not None
    assert f"request_id={said.request_id}" in record.getMessage()
    assert "session=discord:G1:C2:u:7" in record.getMessage()


def test_expected_failures_log_nothing(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for exc in (DuplicateTurn("t"), RateLimited(1), ModelError()):
        assert not notice(exc).request_id
    assert not [r for r in caplog.records if r.name == "switchboard.failures"]


def test_silence() -> None:
    assert notice(DuplicateTurn("t")).silent and not notice(EmptyMessage()).silent
