"""The embedded store after a crash: the next start answers and remembers; never two servers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _env(data: Path) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("SWITCHBOARD_", "OPENAI_", "REDIS_URL"))}
    return {**base, "SWITCHBOARD_DATA_DIR": str(data), "PYTHONPATH": str(ROOT)}


def _chat(data: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "bots.cli", "chat", "--user", "ana"],
                            cwd=ROOT, env=_env(data), stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _running(pid: int) -> bool:
    try:
        return not Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[-1].startswith("Z")
    except OSError:
        return False


def _say(chat: subprocess.Popen[bytes], text: str, expect: bytes) -> bytes:
    assert chat.stdin is not None and chat.stdout is not None
    chat.stdin.write(text.encode() + b"\n")
    chat.stdin.flush()
    seen = b""
    deadline = time.monotonic() + 30
    while expect not in seen and time.monotonic() < deadline:
        seen += chat.stdout.readline()  # the reply is printed after the turn is stored
    assert expect in seen, seen
    return seen


def _stop(chat: subprocess.Popen[bytes]) -> None:
    """End of input: the chat leaves normally and stops its embedded Valkey."""
    try:
        chat.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        chat.kill()
        chat.communicate()


def _server_pid(data: Path) -> int:
    return int((data / "valkey" / "valkey.pid").read_text())


def test_sigkill_then_restart_answers_and_remembers(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = _chat(data)
    try:
        _say(first, "my name is Ana", b"first message")
        orphan = _server_pid(data)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        _stop(first)
    assert _running(orphan)  # the crash left the embedded Valkey behind
    second = subprocess.run([sys.executable, "-m", "bots.cli", "chat", "--user", "ana"],
                            cwd=ROOT, env=_env(data), input=b"who am I?\n",
                            capture_output=True, timeout=60)
    assert second.returncode == 0, second.stderr
    assert "the first was “my name is Ana”".encode() in second.stdout
    assert b"reusing the embedded Valkey" in second.stderr
    assert not _running(orphan)  # adopted, and stopped with the run that adopted it


def test_a_stale_pid_file_never_blocks_a_start(tmp_path: Path) -> None:
    folder = tmp_path / "data" / "valkey"
    folder.mkdir(parents=True)
    sleeper = subprocess.Popen(["sleep", "30"])  # a live pid that is not a Valkey
    try:
        (folder / "valkey.pid").write_text(str(sleeper.pid))
        result = subprocess.run([sys.executable, "-m", "bots.cli", "chat", "--user", "bo"],
                                cwd=ROOT, env=_env(tmp_path / "data"), input=b"hello\n",
                                capture_output=True, timeout=60)
        assert result.returncode == 0, result.stderr
        assert b"first message" in result.stdout
        assert sleeper.poll() is None  # not ours: left alone
    finally:
        sleeper.kill()
        sleeper.wait()


@pytest.mark.timeout(90)
def test_two_runs_at_once_never_share_the_append_only_file(tmp_path: Path) -> None:
    data = tmp_path / "data"
    chats = [_chat(data), _chat(data)]
    try:
        deadline = time.monotonic() + 20
        while all(c.poll() is None for c in chats) and time.monotonic() < deadline:
            time.sleep(0.05)  # one gets the folder; the other stops at start with one line
        time.sleep(0.5)
        finished = [c.poll() for c in chats]
        assert sorted(finished, key=str) == [2, None], finished
        loser = chats[finished.index(2)]
        assert loser.stderr is not None
        err = loser.stderr.read().decode()
        assert "SWITCHBOARD_DATA_DIR: another Switchboard" in err and "Traceback" not in err
        winner = chats[finished.index(None)]
        _say(winner, "still here", b"first message")
    finally:
        for chat in chats:
            _stop(chat)
