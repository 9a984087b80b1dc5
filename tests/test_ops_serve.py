"""Every deployment can be watched: JSON logs without text, and the probes on a metrics port.

The bots run as real `switchboard run` processes against the fake platform and model
servers, logging at DEBUG; the probes are fetched over loopback from the metrics port.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bots.metrics import build
from bots.platforms import PLATFORMS, modules
from bots.wiring import Wiring
from core.errors import ConfigError
from core.service import ChatService
from core.settings import CoreSettings
from tests.fakes import discord_api, telegram_api
from tests.fakes.common import wait_for
from tests.fakes.http_api import SECRET as JWT_SECRET
from tests.fakes.http_api import token
from tests.fakes.slack_api import fake_slack
from tests.test_log_privacy import SLACK_APP, SLACK_BOT, Run, check, run  # noqa: F401

ROOT = Path(__file__).resolve().parents[1]
HASH = re.compile(r"^[0-9a-f]{12}$")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def probe(base: str, path: str, timeout: float = 30) -> httpx.Response:
    """GET `path` once the server answers (it starts with the process)."""
    async with httpx.AsyncClient(base_url=base, timeout=5) as client:
        for _ in range(int(timeout / 0.1)):
            try:
                return await client.get(path)
            except httpx.TransportError:
                await asyncio.sleep(0.1)
    raise AssertionError(f"nothing answered at {base}{path}")


def secret_looking(proc: Run) -> None:
    """The user's message looks like a secret a log must never hold."""
    proc.question = f"my password is hunter2-{uuid.uuid4().hex}"


async def probes_work(base: str, platform: str) -> None:
    health, ready = await probe(base, "/healthz"), await probe(base, "/readyz")
    assert health.status_code == 200 and health.json() == {"status": "ok", "checks": {}}
    assert ready.status_code == 200 and ready.json()["checks"]["redis"] == "ok"
    metrics = await probe(base, "/metrics")
    assert metrics.headers["content-type"].startswith("text/plain")
    assert f'switchboard_turns_total{{outcome="ok",platform="{platform}"}} 1.0' in metrics.text


async def test_discord_gateway_bot_serves_probes_and_json_logs(
        run: tuple[Run, dict[str, str]]) -> None:  # noqa: F811
    proc, env = run
    secret_looking(proc)
    base = f"http://127.0.0.1:{(port := free_port())}"
    async with discord_api.fake_discord() as api:
        await proc.start("discord", {**env, "DISCORD_BOT_TOKEN": discord_api.TOKEN,
                                     "DISCORD_API_URL": f"{api.base}/api/v10",
                                     "DISCORD_GATEWAY_URL": api.gateway_url,
                                     "DISCORD_GUILD_READY_TIMEOUT": "0.05",
                                     "SWITCHBOARD_LOG_FORMAT": "json",
                                     "SWITCHBOARD_METRICS_PORT": str(port)})
        await asyncio.wait_for(api.ready.wait(), 30)
        await asyncio.sleep(0.5)  # READY, then on_ready
        await api.say(discord_api.user(4001, "alice"), proc.question, channel=5001, guild=False)
        await wait_for(lambda: any(proc.answer in t for t in api.texts(5001)), 30)
        await probes_work(base, "discord")
        await proc.stop()
    check(proc, discord_api.TOKEN)
    records = [json.loads(line) for line in proc.log.splitlines() if line.strip()]
    assert all({"time", "level", "logger", "message"} <= set(r) for r in records)
    [turn] = [r for r in records if r["logger"] == "switchboard.turn"]
    assert turn["platform"] == "discord" and turn["outcome"] == "ok"
    assert isinstance(turn["latency_ms"], int) and isinstance(turn["tokens"], int)
    assert HASH.match(turn["session_hash"]) and "session" not in turn
    assert f"session={turn['session_hash']}" in turn["message"]


async def test_telegram_polling_bot_serves_probes(run: tuple[Run, dict[str, str]]  # noqa: F811
                                                  ) -> None:
    proc, env = run
    secret_looking(proc)
    base = f"http://127.0.0.1:{(port := free_port())}"
    async with telegram_api.fake_telegram() as tg:
        alice = telegram_api.user(71, "Alice")
        await proc.start("telegram", {**env, "TELEGRAM_BOT_TOKEN": telegram_api.TOKEN,
                                      "TELEGRAM_API_URL": tg.api_url,
                                      "TELEGRAM_POLL_TIMEOUT": "1",
                                      "SWITCHBOARD_METRICS_PORT": str(port)})
        assert (await probe(base, "/healthz")).status_code == 200
        await tg.send_text(telegram_api.chat_of(alice), alice, proc.question)
        await wait_for(lambda: any(proc.answer in t for t in telegram_api.shown(tg, 71)), 30)
        await probes_work(base, "telegram")
        await proc.stop()
    check(proc, telegram_api.TOKEN)
    [turn] = [line for line in proc.log.splitlines() if " switchboard.turn turn " in line]
    assert re.search(r" session=[0-9a-f]{12} outcome=ok ", turn), turn


async def test_slack_socket_mode_bot_serves_probes(run: tuple[Run, dict[str, str]]  # noqa: F811
                                                  ) -> None:
    proc, env = run
    secret_looking(proc)
    base = f"http://127.0.0.1:{(port := free_port())}"
    async with fake_slack() as slack:
        await proc.start("slack", {**env, "SLACK_BOT_TOKEN": SLACK_BOT,
                                   "SLACK_APP_TOKEN": SLACK_APP,
                                   "SLACK_API_URL": f"{slack.url}/api/",
                                   "SWITCHBOARD_LOG_FORMAT": "json",
                                   "SWITCHBOARD_METRICS_PORT": str(port)})
        await asyncio.wait_for(slack.connected.wait(), 30)
        event = {"type": "message", "channel_type": "im", "channel": "DU1", "user": "U1",
                 "text": proc.question, "ts": "1710000000.000001", "team": "T1"}
        await slack.push("env-1", {"token": "legacy", "team_id": "T1", "api_app_id": "A1",
                                   "type": "event_callback", "event_id": "Ev1",
                                   "event_time": 1710000000, "event": event})
        await wait_for(lambda: any(proc.answer in t for t in slack.messages().values()), 30)
        await probes_work(base, "slack")
        await proc.stop()
    check(proc, SLACK_BOT, SLACK_APP)
    records = [json.loads(line) for line in proc.log.splitlines() if line.strip()]
    assert [r["outcome"] for r in records if r["logger"] == "switchboard.turn"] == ["ok"]


async def test_http_app_logs_requests_as_json(run: tuple[Run, dict[str, str]]  # noqa: F811
                                              ) -> None:
    proc, env = run
    secret_looking(proc)
    base = f"http://127.0.0.1:{(port := free_port())}"
    await proc.start("http", {**env, "SWITCHBOARD_JWT_SECRET": JWT_SECRET,
                              "SWITCHBOARD_HTTP_PORT": str(port),
                              "SWITCHBOARD_LOG_FORMAT": "json"})
    assert (await probe(base, "/healthz")).status_code == 200
    bearer = token("ana")
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        reply = await client.post("/v1/chat", json={"message": proc.question},
                                  headers={"Authorization": f"Bearer {bearer}"})
        assert proc.answer in reply.text
    await proc.stop()
    check(proc, JWT_SECRET, bearer)
    records = [json.loads(line) for line in proc.log.splitlines() if line.strip()]
    [chat] = [r for r in records if r.get("path") == "/v1/chat"]
    assert chat["method"] == "POST" and chat["status"] == 200
    assert isinstance(chat["latency_ms"], int)
    [turn] = [r for r in records if r["logger"] == "switchboard.turn"]
    assert turn["platform"] == "api" and HASH.match(turn["session_hash"])
    assert "ana" not in turn["message"]


@pytest.mark.parametrize(("variable", "value"), [
    ("SWITCHBOARD_LOG_FORMAT", "yaml"),
    ("SWITCHBOARD_METRICS_PORT", "70000"),
    ("SWITCHBOARD_METRICS_PORT", "nine"),
])
async def test_a_bad_setting_stops_the_start_with_one_line(variable: str, value: str) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bots.cli", "run", "discord", cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), variable: value}, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE)
    _, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 2
    assert err.decode().splitlines() == [err.decode().strip()]
    assert err.decode().startswith(f"switchboard: {variable}: ")


@pytest.mark.parametrize(("port", "runs_probes"), [(None, False), (9464, True), (0, True)])
def test_the_probes_run_when_their_port_is_set(port: int | None, runs_probes: bool) -> None:
    settings = CoreSettings(SWITCHBOARD_METRICS_PORT=port)
    chosen = [p for p in PLATFORMS if p.name == "discord"]
    assert modules(chosen, settings) == ["bots.discord"] + (["bots.metrics"] * runs_probes)


@pytest.fixture
async def dead_store(service: ChatService) -> AsyncIterator[ChatService]:
    from core.connect import client_for
    from core.redis_store import RedisStore

    dead = client_for("redis://127.0.0.1:1/0")
    service.store = RedisStore(dead, "sbtest:dead:", 60, 10)
    yield service
    await dead.aclose()


async def test_readyz_on_the_metrics_port_checks_redis(dead_store: ChatService) -> None:
    settings = dead_store.settings.model_copy(update={"metrics_port": free_port()})
    stop = asyncio.Event()
    wiring = Wiring(dead_store, dead_store.store.redis, settings)  # type: ignore[attr-defined]
    server = asyncio.create_task(build(wiring)(stop))
    try:
        ready = await probe(f"http://127.0.0.1:{settings.metrics_port}", "/readyz")
    finally:
        stop.set()
        await asyncio.wait_for(server, 10)
    assert ready.status_code == 503 and ready.json()["checks"]["redis"] == "unreachable"


async def test_a_busy_metrics_port_is_a_config_error(service: ChatService) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        settings = service.settings.model_copy(update={"metrics_port": taken.getsockname()[1]})
        wiring = Wiring(service, service.store.redis, settings)  # type: ignore[attr-defined]
        with pytest.raises(ConfigError, match=r"^SWITCHBOARD_METRICS_PORT: cannot listen"):
            await build(wiring)(asyncio.Event())
