"""The log guard, table-style: what each kind of record becomes on the way out."""

from __future__ import annotations

import hashlib
import io
import json
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
     f"turn session={logs.session_hash('slack:T1:D1')}"),
    ("switchboard.failures", logging.ERROR, "where=%s: %s", ("discord session=discord:G1:C2:u:7",
                                                            "KeyError"),
     f"where=discord session={logs.session_hash('discord:G1:C2:u:7')}: KeyError"),
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


@pytest.fixture
def as_json() -> Iterator[io.StringIO]:
    root, stream = logging.getLogger(), io.StringIO()
    guarded, level = logs.handler(stream, "json"), root.level
    root.addHandler(guarded)
    root.setLevel(logging.DEBUG)
    yield stream
    root.removeHandler(guarded)
    root.setLevel(level)


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_turn_is_one_json_object_with_its_fields(as_json: io.StringIO) -> None:
    fields = {"platform": "telegram", "session": "telegram:71", "outcome": "ok",
              "latency_ms": 12, "tokens": 34, "text": "never this"}
    logging.getLogger("switchboard.turn").info("turn session=%(session)s", fields, extra=fields)
    [line] = lines(as_json)
    hashed = hashlib.sha256(b"telegram:71").hexdigest()[:12]
    assert line == {"time": line["time"], "level": "INFO", "logger": "switchboard.turn",
                    "message": f"turn session={hashed}", "platform": "telegram",
                    "outcome": "ok", "latency_ms": 12, "tokens": 34, "session_hash": hashed}
    assert str(line["time"]).endswith("+00:00")


def test_json_lines_are_guarded_like_text(as_json: io.StringIO) -> None:
    library = logging.getLogger("slack_bolt.App")
    library.debug("body %s", {"text": "secret plans"})
    library.warning("Unhandled request (%s)", {"text": "secret plans"},
                    extra={"status": "secret plans", "platform": "secret plans"})
    try:
        raise ValueError("input_value='the user typed this'")
    except ValueError:
        logging.getLogger("switchboard.failures").exception(
            "failed request_id=%s", "ab12", extra={"request_id": "ab12"})
    warned, failed = lines(as_json)
    assert warned == {"time": warned["time"], "level": "WARNING", "logger": "slack_bolt.App",
                      "message": "Unhandled request ({…})"}  # a library's extras are dropped
    assert failed["request_id"] == "ab12" and "ValueError" in str(failed["exception"])
    assert "secret plans" not in as_json.getvalue()
    assert "the user typed this" not in as_json.getvalue()
