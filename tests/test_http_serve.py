"""`switchboard run http`: serving on the configured port, and a graceful stop on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from pathlib import Path

import httpx
import pytest

from adapters.http.render_web import web
from bots.http import build
from bots.wiring import Wiring
from core.errors import ConfigError
from core.service import ChatService
from tests.fakes.http_api import SECRET, auth, parse_sse
from tests.fakes.openai_server import FakeOpenAI


def wiring_of(service: ChatService) -> Wiring:
    return Wiring(service, service.store.redis, service.settings)  # type: ignore[attr-defined]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _up(url: str, timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            try:
                if (await client.get(f"{url}/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                await asyncio.sleep(0.02)
    raise AssertionError("server did not start")


async def test_stop_lets_the_in_flight_reply_finish(
        llm_service: ChatService, openai_fake: FakeOpenAI,
        monkeypatch: pytest.MonkeyPatch) -> None:
    port = _free_port()
    monkeypatch.setenv("SWITCHBOARD_JWT_SECRET", SECRET)
    monkeypatch.setenv("SWITCHBOARD_HTTP_PORT", str(port))
    openai_fake.answer, openai_fake.chunk_delay = (lambda body: "slow " * 40), 0.02
    stop = asyncio.Event()
    server = asyncio.create_task(build(wiring_of(llm_service))(stop))
    url = f"http://127.0.0.1:{port}"
    await _up(url)
    async with httpx.AsyncClient(base_url=url, headers=auth(), timeout=10) as client:
        reply = asyncio.create_task(client.post("/v1/chat/stream", json={"message": "go"}))
        await asyncio.sleep(0.3)  # the reply is streaming now
        stopped_at = time.monotonic()
        stop.set()
        events = parse_sse((await reply).text)
        assert events[-1][0] == "done" and events[-1][1]["reply"] == "slow " * 40
        await asyncio.wait_for(server, timeout=10)
        assert time.monotonic() - stopped_at < 10
        with pytest.raises(httpx.ConnectError):
            await client.get("/healthz")


async def test_busy_port_is_a_config_error(service: ChatService,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        monkeypatch.setenv("SWITCHBOARD_HTTP_PORT", str(taken.getsockname()[1]))
        with pytest.raises(ConfigError, match="SWITCHBOARD_HTTP_PORT"):
            await build(wiring_of(service))(asyncio.Event())


async def test_sigterm_finishes_the_in_flight_reply_and_exits_within_10_s(
        openai_fake: FakeOpenAI, redis_url: str, prefix: str, redis: object) -> None:
    """The real command in its own process: a real SIGTERM, as a service manager sends it."""
    port = _free_port()
    env = {**os.environ, "SWITCHBOARD_JWT_SECRET": SECRET, "SWITCHBOARD_HTTP_PORT": str(port),
           "REDIS_URL": redis_url, "SWITCHBOARD_REDIS_PREFIX": prefix,
           "OPENAI_API_KEY": "sk-test-fake-key-123", "OPENAI_BASE_URL": openai_fake.base_url}
    openai_fake.answer, openai_fake.chunk_delay = (lambda body: "slow " * 40), 0.02
    command = Path(sys.executable).with_name("switchboard")
    process = await asyncio.create_subprocess_exec(
        str(command), "run", "http", env=env, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE)
    try:
        url = f"http://127.0.0.1:{port}"
        await _up(url, timeout=20)  # a new interpreter imports the model clients: seconds
        async with httpx.AsyncClient(base_url=url, headers=auth(), timeout=10) as client:
            reply = asyncio.create_task(client.post("/v1/chat/stream", json={"message": "go"}))
            await asyncio.sleep(0.3)  # the reply is streaming now
            stopped_at = time.monotonic()
            process.send_signal(signal.SIGTERM)
            events = parse_sse((await reply).text)
        assert events[-1] == ("done", {"session_id": events[0][1]["session_id"],
                                       "reply": "slow " * 40, "turn_count": 1,
                                       "rendered": web("slow " * 40)})
        assert await asyncio.wait_for(process.wait(), timeout=10) == 0
        assert time.monotonic() - stopped_at < 10
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
