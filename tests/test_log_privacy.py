"""At DEBUG, every platform's process logs no message text, answer text, token or secret.

Each test runs the real `switchboard run <platform>` in its own process, with logging set up
as in production, against the fake platform and model servers; then it reads what the
process wrote to standard error.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.fakes import discord_api, telegram_api
from tests.fakes.common import wait_for
from tests.fakes.http_api import SECRET as JWT_SECRET
from tests.fakes.http_api import token
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack_api import fake_slack

ROOT = Path(__file__).resolve().parents[1]
OPENAI_KEY = "sk-privacy-test-key-0123456789"
SLACK_BOT, SLACK_APP = "xoxb-1111-2222-privacytoken", "xapp-1-A1-3333-privacytoken"


class Run:
    """One `switchboard run` process and the unique texts of its conversation."""

    def __init__(self, openai: FakeOpenAI) -> None:
        self.question = f"question-{uuid.uuid4().hex}"
        self.answer = f"answer-{uuid.uuid4().hex}"
        openai.answer = lambda body: f"{self.answer} and more"
        self.process: asyncio.subprocess.Process | None = None
        self.log = ""

    async def start(self, platform: str, env: dict[str, str]) -> None:
        base = {k: v for k, v in os.environ.items()
                if not k.startswith(("SWITCHBOARD_", "OPENAI_", "SLACK_", "TELEGRAM_",
                                     "DISCORD_"))}
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bots.cli", "run", platform, cwd=ROOT,
            env={**base, **env, "PYTHONPATH": str(ROOT)}, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE)

    async def stop(self) -> str:
        assert self.process is not None
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(self.process.communicate(), 20)
        self.log = err.decode(errors="replace")
        return self.log


@pytest.fixture
async def run(openai_fake: FakeOpenAI, redis_url: str, prefix: str,
              redis: object) -> AsyncIterator[tuple[Run, dict[str, str]]]:
    started = Run(openai_fake)
    env = {"OPENAI_API_KEY": OPENAI_KEY, "OPENAI_BASE_URL": openai_fake.base_url,
           "REDIS_URL": redis_url, "SWITCHBOARD_REDIS_PREFIX": prefix,
           "SWITCHBOARD_LOG_LEVEL": "DEBUG"}
    try:
        yield started, env
    finally:
        if started.process is not None and started.process.returncode is None:
            started.process.kill()
            await started.process.wait()


def check(run: Run, *secrets: str) -> None:
    assert "outcome=ok" in run.log, run.log[-3000:]  # the turn happened, and was logged
    for text in (run.question, run.answer, OPENAI_KEY, *secrets):
        assert text not in run.log, f"{text!r} leaked into the log"
    assert "Traceback" not in run.log


async def test_telegram(run: tuple[Run, dict[str, str]]) -> None:
    proc, env = run
    async with telegram_api.fake_telegram() as tg:
        alice = telegram_api.user(71, "Alice")
        await proc.start("telegram", {**env, "TELEGRAM_BOT_TOKEN": telegram_api.TOKEN,
                                      "TELEGRAM_API_URL": tg.api_url,
                                      "TELEGRAM_POLL_TIMEOUT": "1"})
        await tg.send_text(telegram_api.chat_of(alice), alice, proc.question)
        await wait_for(lambda: any(proc.answer in t for t in telegram_api.shown(tg, 71)), 30)
        await proc.stop()
    check(proc, telegram_api.TOKEN)


async def test_slack_socket_mode(run: tuple[Run, dict[str, str]]) -> None:
    proc, env = run
    async with fake_slack() as slack:
        await proc.start("slack", {**env, "SLACK_BOT_TOKEN": SLACK_BOT,
                                   "SLACK_APP_TOKEN": SLACK_APP,
                                   "SLACK_API_URL": f"{slack.url}/api/"})
        await asyncio.wait_for(slack.connected.wait(), 30)
        event = {"type": "message", "channel_type": "im", "channel": "DU1", "user": "U1",
                 "text": proc.question, "ts": "1710000000.000001", "team": "T1"}
        await slack.push("env-1", {"token": "legacy", "team_id": "T1", "api_app_id": "A1",
                                   "type": "event_callback", "event_id": "Ev1",
                                   "event_time": 1710000000, "event": event})
        await wait_for(lambda: any(proc.answer in t for t in slack.messages().values()), 30)
        await proc.stop()
    check(proc, SLACK_BOT, SLACK_APP)


async def test_discord(run: tuple[Run, dict[str, str]]) -> None:
    proc, env = run
    async with discord_api.fake_discord() as api:
        await proc.start("discord", {**env, "DISCORD_BOT_TOKEN": discord_api.TOKEN,
                                     "DISCORD_API_URL": f"{api.base}/api/v10",
                                     "DISCORD_GATEWAY_URL": api.gateway_url,
                                     "DISCORD_GUILD_READY_TIMEOUT": "0.05"})
        await asyncio.wait_for(api.ready.wait(), 30)
        await asyncio.sleep(0.5)  # READY, then on_ready
        alice = discord_api.user(4001, "alice")
        await api.say(alice, proc.question, channel=5001, guild=False)
        await wait_for(lambda: any(proc.answer in t for t in api.texts(5001)), 30)
        await proc.stop()
    check(proc, discord_api.TOKEN)


async def test_http(run: tuple[Run, dict[str, str]]) -> None:
    proc, env = run
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    await proc.start("http", {**env, "SWITCHBOARD_JWT_SECRET": JWT_SECRET,
                              "SWITCHBOARD_HTTP_PORT": str(port)})
    bearer = token("ana")
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
        async def up() -> bool:
            try:
                return (await client.get("/healthz")).status_code == 200
            except httpx.TransportError:
                return False
        for _ in range(300):
            if await up():
                break
            await asyncio.sleep(0.1)
        reply = await client.post("/v1/chat", json={"message": proc.question},
                                  headers={"Authorization": f"Bearer {bearer}"})
        assert proc.answer in reply.text
    await proc.stop()
    check(proc, JWT_SECRET, bearer)
