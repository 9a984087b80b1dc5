"""Slack: an event acknowledged just before a crash (SIGKILL) is answered once after a restart.

Each test runs the real `switchboard run slack` as its own process against the fake Slack and
model servers, kills it with SIGKILL right after Slack got its acknowledgement or right after
the model was called, starts it again and counts the answers Slack shows.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from slack_sdk.signature import SignatureVerifier

from tests.bot_process import BotProcess
from tests.fakes.common import wait_for
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack_api import FakeSlack, fake_slack

BOT_TOKEN, APP_TOKEN, SIGNING = "xoxb-1-crash", "xapp-1-A1-crash", "crash-signing-secret"
LOCK_EXPIRY = 45  # a killed turn's conversation lock expires after 30 s; the replay waits


def dm(text: str, ts: str, user: str = "U1") -> dict[str, Any]:
    event = {"type": "message", "channel_type": "im", "channel": f"D{user}", "user": user,
             "text": text, "ts": ts, "team": "T1"}
    return {"token": "legacy", "team_id": "T1", "api_app_id": "A1", "type": "event_callback",
            "event_id": f"Ev{uuid.uuid4().hex[:10]}", "event_time": int(time.time()),
            "event": event}


def answers(slack: FakeSlack, text: str) -> list[str]:
    return [t for t in slack.messages().values() if text in t]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def env(openai_fake: FakeOpenAI, redis_url: str, prefix: str,
              redis: Redis) -> dict[str, str]:
    return {"OPENAI_API_KEY": "sk-test-crash-key", "OPENAI_BASE_URL": openai_fake.base_url,
            "REDIS_URL": redis_url, "SWITCHBOARD_REDIS_PREFIX": prefix,
            "SLACK_BOT_TOKEN": BOT_TOKEN, "SWITCHBOARD_REPLAY_AFTER": "1"}


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with fake_slack() as fake:
        yield fake


async def socket_bot(bots: list[BotProcess], slack: FakeSlack,
                     env: dict[str, str]) -> BotProcess:
    slack.connected.clear()
    bot = BotProcess("slack", {**env, "SLACK_APP_TOKEN": APP_TOKEN,
                               "SLACK_API_URL": f"{slack.url}/api/"})
    bots.append(bot)
    await bot.start()
    await asyncio.wait_for(slack.connected.wait(), 30)
    return bot


@pytest.mark.parametrize("kill_at", ["ack", "model call"])
async def test_socket_mode_event_answered_once_after_a_kill(
        kill_at: str, slack: FakeSlack, openai_fake: FakeOpenAI, env: dict[str, str],
        bots: list[BotProcess]) -> None:
    openai_fake.hang_next(120)  # the first model call never ends: the kill comes first
    first = await socket_bot(bots, slack, env)
    await slack.push("env-1", dm("survive me", "1710000000.000001"))
    if kill_at == "ack":
        await wait_for(lambda: "env-1" in slack.acks, 10)
    else:
        await wait_for(lambda: openai_fake.requests, 10)
    first.kill()
    await first.reap()
    openai_fake.unhang()
    await socket_bot(bots, slack, env)  # Slack does not send it again: only the inbox has it
    await wait_for(lambda: answers(slack, "echo: survive me"), LOCK_EXPIRY)
    await asyncio.sleep(1.5)  # a second answer would come now (the replay runs every second)
    assert answers(slack, "echo: survive me") == ["echo: survive me"], bots[-1].output()[-3000:]


def signed(body: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    raw, stamp = json.dumps(body).encode(), str(int(time.time()))
    signature = SignatureVerifier(SIGNING).generate_signature(timestamp=stamp, body=raw)
    return raw, {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature,
                 "Content-Type": "application/json"}


async def http_bot(bots: list[BotProcess], slack: FakeSlack, env: dict[str, str],
                   port: int) -> str:
    bot = BotProcess("slack", {**env, "SLACK_SIGNING_SECRET": SIGNING,
                               "SLACK_API_URL": f"{slack.url}/api/",
                               "SWITCHBOARD_HTTP_PORT": str(port)})
    bots.append(bot)
    await bot.start()
    url = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient() as client:
        for _ in range(300):
            try:
                if (await client.get(f"{url}/healthz")).status_code == 200:
                    return url
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError(f"the HTTP app did not start: {bot.output()[-2000:]}")


@pytest.mark.parametrize("kill_at", ["ack", "model call"])
async def test_events_api_event_answered_once_after_a_kill(
        kill_at: str, slack: FakeSlack, openai_fake: FakeOpenAI, env: dict[str, str],
        bots: list[BotProcess]) -> None:
    openai_fake.hang_next(120)
    port = free_port()
    url = await http_bot(bots, slack, env, port)
    raw, headers = signed(dm("survive me too", "1710000000.000002"))
    async with httpx.AsyncClient() as client:
        acked = await client.post(f"{url}/slack/events", content=raw, headers=headers)
    assert acked.status_code == 200
    if kill_at == "model call":
        await wait_for(lambda: openai_fake.requests, 10)
    bots[-1].kill()
    await bots[-1].reap()
    openai_fake.unhang()
    await http_bot(bots, slack, env, port)  # Slack got its 200: it never retries this one
    await wait_for(lambda: answers(slack, "echo: survive me too"), LOCK_EXPIRY)
    await asyncio.sleep(1.5)
    assert answers(slack, "echo: survive me too") == ["echo: survive me too"]
