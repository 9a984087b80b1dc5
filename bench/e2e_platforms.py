"""Time to first visible word on each platform path of bench/e2e.py.

One `switchboard run http telegram slack discord` process serves the fake platforms of
tests/fakes (driven through the real SDKs): a Telegram webhook update and a signed Slack
event are POSTed to its HTTP app, a Discord DM arrives through the fake gateway. The clock
starts when the bench hands the platform the user's message and stops when the fake platform
receives the first call that shows words: Telegram `sendMessage`, `sendMessageDraft` or
`editMessageText`; Slack `chat.postMessage`, `chat.startStream`/`appendStream` or
`chat.update` with text; Discord's first message create (or edit) with text in that channel.

The issue's aim starts the clock later, when the model sent its first content token: each
message ends with a `#ttfw-<platform>-<n>` tag, the fake model notes when it sent the first
token of the request that carries each tag (bench/e2e_model.py), and the bench reports both
figures. The HTTP API's first SSE `token` event is measured the same way. Every clock here is
the machine's monotonic clock, which the bench's, the model's and Switchboard's processes share.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from aiohttp import web

from bench.e2e_load import TEXT, Counter, sb_token
from bench.e2e_procs import Stack
from tests.fakes import discord_api, telegram_api
from tests.fakes.common import start_aiohttp
from tests.fakes.slack_api import fake_slack

SIGNING, TG_SECRET = "bench-slack-signing-secret", "bench-telegram-secret"
Shown = Callable[[int, float], float | None]  # (conversation, sent at) -> first word at
Send = Callable[[int, str], Awaitable[None]]  # (conversation, text)


def tagged(platform: str, conv: int) -> str:
    """The bench's message, tagged so the fake model can tell which conversation asked."""
    return f"{TEXT} #ttfw-{platform}-{conv}"


class TimedDiscord(discord_api.FakeDiscord):
    """The fake Discord, noting when each channel first got a message with words."""

    def __init__(self) -> None:
        super().__init__()
        self.first: dict[int, float] = {}

    async def _create(self, request: web.Request) -> web.Response:
        response = await super()._create(request)
        body = json.loads(response.text or "{}")
        if body.get("content"):
            self.first.setdefault(int(request.match_info["cid"]), time.monotonic())
        return response

    async def _edit(self, request: web.Request) -> web.Response:
        response = await super()._edit(request)
        if json.loads(response.text or "{}").get("content"):
            self.first.setdefault(int(request.match_info["cid"]), time.monotonic())
        return response


def telegram_shown(tg: telegram_api.FakeTelegram) -> Shown:
    words = {"sendMessage", "sendMessageDraft", "editMessageText"}

    def first(conv: int, sent: float) -> float | None:
        return next((c.at for c in tg.calls if c.method in words and c.at >= sent
                     and c.params.get("chat_id") == 7000 + conv and c.params.get("text")), None)
    return first


def slack_shown(calls: list[tuple[str, dict[str, Any]]]) -> Shown:
    words = {"chat.postMessage", "chat.startStream", "chat.appendStream", "chat.update"}

    def first(conv: int, sent: float) -> float | None:
        for method, p in calls:
            text = (p.get("text") or p.get("markdown_text") or "") + "".join(
                c.get("text", "") for c in p.get("chunks") or [])
            if method in words and p["_at"] >= sent and p.get("channel") == f"D{conv}" and text:
                return float(p["_at"])
        return None
    return first


async def telegram_send(http: aiohttp.ClientSession, base: str, conv: int, text: str) -> None:
    who = telegram_api.user(7000 + conv, f"user{conv}")
    update = {"update_id": int(time.time() * 1000) % 10**9 + conv, "message": {
        "message_id": conv + 1, "date": int(time.time()), "chat": telegram_api.chat_of(who),
        "from": who, "text": text}}
    async with http.post(base + "/telegram/webhook", json=update,
                         headers={"X-Telegram-Bot-Api-Secret-Token": TG_SECRET}) as response:
        response.raise_for_status()


async def slack_send(http: aiohttp.ClientSession, base: str, conv: int, text: str) -> None:
    event = {"type": "message", "channel_type": "im", "channel": f"D{conv}", "user": f"U{conv}",
             "text": text, "ts": f"{time.time():.6f}", "team": "T1"}
    body = json.dumps({"token": "legacy", "team_id": "T1", "api_app_id": "A1",
                       "type": "event_callback", "event_id": f"Ev{uuid.uuid4().hex}",
                       "event_time": int(time.time()), "event": event})
    ts = str(int(time.time()))
    signature = "v0=" + hmac.new(SIGNING.encode(), f"v0:{ts}:{body}".encode(),
                                 hashlib.sha256).hexdigest()
    async with http.post(base + "/slack/events", data=body, headers={
            "Content-Type": "application/json", "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature}) as response:
        response.raise_for_status()


Got = dict[int, tuple[float, float]]  # conversation -> (message sent, first word shown)


async def measure(send: Send, shown: Shown, platform: str, conversations: int, wait: float,
                  start: int = 0) -> Got:
    """Send one message in each conversation at once; when each was sent and first shown."""
    sent = {conv: time.monotonic() for conv in range(start, start + conversations)}
    await asyncio.gather(*(send(conv, tagged(platform, conv)) for conv in sent))
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        firsts = [shown(conv, at) for conv, at in sent.items()]
        if all(f is not None for f in firsts):
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(max(0.0, deadline - time.monotonic()))  # let the answers finish
    return {conv: (at, f) for (conv, at), f in zip(sent.items(), firsts, strict=True)
            if f is not None}


def pct(values: list[float], q: float) -> float:
    """The q-th quantile of sorted `values`, nearest rank (p95 of ten is the slowest)."""
    return values[min(len(values) - 1, int(q * len(values)))]


def report(platform: str, got: Got, tokens: dict[str, float],
           conversations: int) -> dict[str, str]:
    """Print the platform's figures; its summary values, p50 in milliseconds."""
    keys = {conv: f"{platform}-{conv}" for conv in got}
    message = sorted((f - at) * 1000 for at, f in got.values())
    after = sorted((got[c][1] - tokens[k]) * 1000 for c, k in keys.items() if k in tokens)
    model = sorted((tokens[k] - got[c][0]) * 1000 for c, k in keys.items() if k in tokens)
    if not message:
        print(f"{platform:<10} no first word in {conversations} conversations", flush=True)
    else:
        print(f"{platform:<10} {len(got)}/{conversations} answered; first visible word ms from "
              f"the message: p50 {pct(message, 0.5):.0f}, p95 {pct(message, 0.95):.0f}", flush=True)
    if after:
        print(f"{'':<10} after the model's first token: p50 {pct(after, 0.5):.0f}, p95 "
              f"{pct(after, 0.95):.0f} ({len(after)} tied to their model request; the model's "
              f"first token came {pct(model, 0.5):.0f} ms after the message, p50)", flush=True)
    return {f"ttfw_ms_{platform}": f"{pct(message, 0.5):.0f}" if message else "na",
            f"ttfw_after_token_ms_{platform}": f"{pct(after, 0.5):.0f}" if after else "na"}


def http_path(http: aiohttp.ClientSession, base: str) -> tuple[Send, Shown]:
    """The HTTP API's streamed route: the first SSE `token` event is the first visible word."""
    firsts: dict[int, float] = {}
    reading: set[asyncio.Task[None]] = set()

    async def read(conv: int, text: str) -> None:
        tokens = Counter(b"event: token\n")
        async with http.post(base + "/v1/chat/stream", json={"message": text}, headers={
                "Authorization": f"Bearer {sb_token(f'ttfw{conv}')}"}) as response:
            async for chunk in response.content.iter_any():
                if tokens.feed(chunk):
                    firsts.setdefault(conv, time.monotonic())

    async def send(conv: int, text: str) -> None:
        task = asyncio.create_task(read(conv, text))  # answered while `measure` watches
        reading.add(task)
        task.add_done_callback(reading.discard)

    def first(conv: int, sent: float) -> float | None:
        at = firsts.get(conv)
        return at if at is not None and at >= sent else None
    return send, first


async def platform_ttfw(run: Stack, model_url: str, conversations: int,
                        answer_s: float) -> dict[str, str]:
    """Each platform in turn, `conversations` at once: its summary values (p50 ms)."""
    # The fake gateway's socket is cut when the bot stops: not worth a traceback.
    logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)
    discord = TimedDiscord()
    runner, port = await start_aiohttp(discord.app())
    discord.base = f"http://127.0.0.1:{port}"
    try:
        async with telegram_api.fake_telegram() as tg, fake_slack() as slack:
            for conv in range(conversations + 1):
                slack.users[f"U{conv}"] = {"display_name": f"user{conv}"}
            env = platform_env(tg, slack.url, discord)
            proc, base = await run.switchboard(model_url, ["http", "telegram", "slack",
                                                           "discord"], env)
            await asyncio.wait_for(discord.ready.wait(), 30)
            await asyncio.sleep(1.0)  # READY, then on_ready
            out = await _all(base, model_url, tg, slack.calls, discord, conversations,
                             answer_s + 1)
            proc.stop()
    finally:
        await runner.cleanup()
    return out


async def _all(base: str, model_url: str, tg: telegram_api.FakeTelegram,
               calls: list[tuple[str, Any]], discord: TimedDiscord, conversations: int,
               wait: float) -> dict[str, str]:
    def discord_first(conv: int, sent: float) -> float | None:
        at = discord.first.get(8000 + conv)
        return at if at is not None and at >= sent else None

    async def discord_send(conv: int, text: str) -> None:
        await discord.say(discord_api.user(9000 + conv, f"user{conv}"), text,
                          channel=8000 + conv, guild=False)
    out: dict[str, str] = {}
    async with aiohttp.ClientSession() as http:
        paths: dict[str, tuple[Send, Shown]] = {
            "telegram": (lambda c, t: telegram_send(http, base, c, t), telegram_shown(tg)),
            "slack": (lambda c, t: slack_send(http, base, c, t), slack_shown(calls)),
            "discord": (discord_send, discord_first), "http": http_path(http, base)}
        for name, (send, shown) in paths.items():
            # One first message in a conversation of its own: the process's first on this
            # platform pays for lazy imports and new connections, which no later one does.
            await measure(send, shown, name, 1, wait, start=conversations)
            got = await measure(send, shown, name, conversations, wait)
            async with http.get(model_url + "/stats") as response:
                tokens = (await response.json())["first_token"]
            out |= report(name, got, tokens, conversations)
    return out

def platform_env(tg: telegram_api.FakeTelegram, slack_url: str,
                 discord: TimedDiscord) -> dict[str, str]:
    return {"TELEGRAM_BOT_TOKEN": telegram_api.TOKEN, "TELEGRAM_API_URL": tg.api_url,
            "TELEGRAM_WEBHOOK_URL": "http://127.0.0.1:9/telegram/webhook",
            "TELEGRAM_WEBHOOK_SECRET": TG_SECRET,
            "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": SIGNING,
            "SLACK_API_URL": f"{slack_url}/api/",
            "DISCORD_BOT_TOKEN": discord_api.TOKEN, "DISCORD_API_URL": f"{discord.base}/api/v10",
            "DISCORD_GATEWAY_URL": discord.gateway_url, "DISCORD_GUILD_READY_TIMEOUT": "0.05"}
