"""`switchboard` as a user runs it: the terminal chat, bad input, start-up errors."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bots.cli import main


def switchboard(*args: str, stdin: bytes = b"", env: dict[str, str] | None = None,
                cwd: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("SWITCHBOARD_", "OPENAI_", "SLACK_", "TELEGRAM_", "DISCORD_"))
            and k != "REDIS_URL"}
    return subprocess.run([sys.executable, "-m", "bots.cli", *args], input=stdin,
                          capture_output=True, timeout=60, cwd=cwd,
                          env={**base, **(env or {}), "PYTHONPATH": str(Path.cwd())})


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    # main() configures logging for its process; in-process calls must not leak it.
    turn = logging.getLogger("switchboard.turn")
    level, handlers = turn.level, logging.getLogger().handlers[:]
    yield
    turn.setLevel(level)
    logging.getLogger().handlers[:] = handlers


@pytest.fixture
def project_root(monkeypatch: pytest.MonkeyPatch) -> Path:
    root = Path(__file__).resolve().parent.parent
    monkeypatch.chdir(root)
    return root


def test_second_run_remembers_the_first_with_no_settings(project_root: Path,
                                                         tmp_path: Path) -> None:
    # No REDIS_URL, no key: offline model and an embedded Valkey under .switchboard/.
    env = {"SWITCHBOARD_DATA_DIR": str(tmp_path / "data")}
    first = switchboard("chat", "--user", "ana", stdin=b"my name is Ana\n", env=env)
    assert first.returncode == 0, first.stderr
    assert b"first message" in first.stdout
    assert b"embedded Valkey" in first.stderr
    second = switchboard("chat", "--user", "ana", stdin=b"who am I?\n", env=env)
    assert second.returncode == 0, second.stderr
    assert "the first was “my name is Ana”".encode() in second.stdout
    assert (tmp_path / "data" / "valkey").is_dir()


def test_bad_input_gets_short_answers_and_nothing_stored(project_root: Path, redis_url: str,
                                                         prefix: str) -> None:
    env = {"REDIS_URL": redis_url, "SWITCHBOARD_REDIS_PREFIX": prefix,
           "SWITCHBOARD_MAX_INPUT_CHARS": "50"}
    lines = b"   \n" + b"x" * 60 + b"\nnul\x00here\n\xff\xfe broken\n/history\n/quit\nignored\n"
    result = switchboard("chat", "--user", "bo", stdin=lines, env=env)
    out = result.stdout.decode()
    assert result.returncode == 0
    assert "Your message was empty" in out
    assert "under 50 characters" in out
    assert out.count("characters I can't accept") == 2
    assert "No messages yet" in out
    assert "Traceback" not in out + result.stderr.decode()


def test_reset_starts_over(project_root: Path, redis_url: str, prefix: str) -> None:
    env = {"REDIS_URL": redis_url, "SWITCHBOARD_REDIS_PREFIX": prefix}
    out = switchboard("chat", "--user", "cy", stdin=b"hello\n/reset\nagain\n/history\n",
                      env=env).stdout.decode()
    before, _, after = out.partition("Started a fresh conversation.")
    assert "first message" in before
    assert "That's the first message" in after.split("cy: again")[0]
    assert "cy: again" in after and "cy: hello" not in after


@pytest.mark.parametrize(("env", "variable"), [
    ({"SWITCHBOARD_RATE_LIMIT": "lots"}, "SWITCHBOARD_RATE_LIMIT"),
    ({"SWITCHBOARD_HISTORY_TTL": "-1"}, "SWITCHBOARD_HISTORY_TTL"),
    ({"REDIS_URL": "redis://127.0.0.1:1/0"}, "REDIS_URL"),
    ({"REDIS_URL": "http://example"}, "REDIS_URL"),
    ({"OPENAI_API_KEY": "changeme"}, "OPENAI_API_KEY"),
])
def test_bad_setting_stops_with_one_line(monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str],
                                         env: dict[str, str], variable: str) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["chat"]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines()[-1].startswith(f"switchboard: {variable}:")
    assert "Traceback" not in err


def test_run_with_nothing_configured_names_the_variables(project_root: Path) -> None:
    result = switchboard("run")
    assert result.returncode == 2
    message = result.stderr.decode()
    for variable in ("SLACK_BOT_TOKEN", "TELEGRAM_BOT_TOKEN", "DISCORD_BOT_TOKEN"):
        assert variable in message


def test_attach_sends_a_file_with_the_next_message(project_root: Path, redis_url: str,
                                                   prefix: str, tmp_path: Path) -> None:
    from tests import media

    (tmp_path / "photo.png").write_bytes(media.png())
    (tmp_path / "notes.zip").write_bytes(media.zip_named_png())
    env = {"REDIS_URL": redis_url, "SWITCHBOARD_REDIS_PREFIX": prefix}
    lines = (f"/attach {tmp_path / 'photo.png'}\nwhat is this?\n/attach {tmp_path}/nope.png\n"
             f"/attach {tmp_path / 'notes.zip'}\nand this?\nplain again\n/history\n").encode()
    out = switchboard("chat", "--user", "di", stdin=lines, env=env).stdout.decode()
    assert "Attached photo.png" in out
    assert "You sent 1 image" in out  # the offline model saw it
    assert "Can't read" in out and "No such file" in out
    assert "I can't read .zip files" in out
    answers, _, history = out.partition("di: what is this? [sent an image]")
    assert history, "/history names the image"
    assert answers.count("You sent 1 image") == 1, "a file goes with one message only"


def test_model_and_persona_list_and_choose(project_root: Path, redis_url: str, prefix: str,
                                           tmp_path: Path) -> None:
    (tmp_path / "switchboard.toml").write_text(
        '[models.fast]\nmodel = "fast-model"\ndescription = "Quick answers"\n'
        '[personas.pirate]\ndescription = "Talks like a pirate"\nprompt = "Talk like a pirate."\n')
    env = {"REDIS_URL": redis_url, "SWITCHBOARD_REDIS_PREFIX": prefix,
           "SWITCHBOARD_CONFIG": str(tmp_path / "switchboard.toml")}
    lines = b"/model\n/model fast\n/model\n/model nope\n/persona pirate\n/persona\n/help\n"
    result = switchboard("chat", "--user", "ed", stdin=lines, env=env)
    out = result.stdout.decode()
    assert result.returncode == 0, result.stderr
    assert "This conversation's model is default." in out
    assert "• fast: Quick answers" in out
    assert "From now on this conversation uses the model fast." in out
    assert "This conversation's model is fast." in out
    assert "There is no model called “nope” here. Choose one of: default, fast." in out
    assert "From now on this conversation uses the persona pirate." in out
    assert "This conversation's persona is pirate." in out
    assert "/model NAME" in out
