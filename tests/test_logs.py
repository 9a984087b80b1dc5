"""The log guard, table-style: what each kind of record becomes on the way out."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from bots import logs


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    root, stream = logging.getLogger(), io.StringIO()
    guarded, level = logs.handler(stream), root.level
    root.addHandler(guarded)
    root.setLevel(logging.DEBUG)
    yield stream
    root.removeHandler(guarded)
    root.setLevel(level)


@pytest.mark.parametrize(("logger", "level", "message", "args", "shown"), [
    ("switchboard.turn", logging.DEBUG, "turn session=%s", ("slack:T1:D1",),
     "turn session=slack:T1:D1"),
    ("slack_sdk.web", logging.DEBUG, "Sending a request - body: %s", ({"text": "hi"},), None),
    ("httpx", logging.INFO, "HTTP Request: POST %s", ("https://x/bot123456:AAAA/send",), None),
    ("slack_bolt.App", logging.WARNING, "Unhandled request (%s)",
     ({"event": {"text": "secret plans"}},), "Unhandled request ({…})"),
    ("telegram.ext", logging.ERROR, "Update %s caused %s", ("'my text'", "BadRequest"),
     "Update '…' caused BadRequest"),
    ("switchboard.x", logging.INFO, "key %s", ("sk-abcdefghijklmnop",), "key [redacted]"),
    ("discord.client", logging.WARNING, "token %s", ("xoxb-1-2-3",), "token [redacted]"),
])
def test_what_a_record_becomes(captured: io.StringIO, logger: str, level: int, message: str,
                               args: tuple[object, ...], shown: str | None) -> None:
    named = logging.getLogger(logger)
    saved, named.level = named.level, logging.DEBUG  # even a library set to DEBUG is capped
    named.log(level, message, *args)
    named.setLevel(saved)
    out = captured.getvalue()
    if shown is None:
        assert out == ""
    else:
        assert out.rstrip().endswith(shown), out


def test_exception_texts_are_blanked_for_everyone(captured: io.StringIO) -> None:
    try:
        raise ValueError("input_value='the user typed this' {'text': 'and this'}")
    except ValueError:
        logging.getLogger("switchboard.turn").exception("turn failed")
    out = captured.getvalue()
    assert "turn failed" in out and "ValueError" in out
    assert "the user typed this" not in out and "and this" not in out
