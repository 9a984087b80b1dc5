"""Delivering Telegram answers: splitting, HTML fallback, flood control, streaming, webhook."""

from __future__ import annotations

import asyncio
import itertools
import re
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from adapters.telegram import webhook_router
from adapters.telegram.app import TelegramApp
from adapters.textsplit import utf16_len
from core.service import ChatService
from tests.fakes.common import serve_asgi, wait_for
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.telegram_api import (
    FakeTelegram,
    chat_of,
    fake_telegram,
    shown,
    telegram_bot,
    user,
)

ALICE = user(11, "Alice")
SECRET = "s3cret-Token_42"


def long_answer() -> str:
    parts = []
    for i in range(40):
        parts.append(f"Paragraph {i} 🚀 with **bold**, `code` & <angle> brackets. " * 3)
        if i % 8 == 3:
            body = "\n".join(f"    print({n}, '<ok>')  # 🐍" for n in range(12 * (i % 3 + 1)))
            parts.append(f"```python\ndef f{i}():\n{body}\n```")
    return "\n\n".join(parts)


def words(text: str) -> list[str]:
    """What a reader sees, ignoring layout: fences and Markdown markers dropped."""
    text = re.sub(r"^```\w*$", "", text, flags=re.MULTILINE)
    return text.replace("**", "").replace("`", "").split()


async def ask(tg: FakeTelegram, text: str, done: Any) -> None:
    await tg.send_text(chat_of(ALICE), ALICE, text)
    await wait_for(lambda: done(shown(tg, 11)), timeout=15)


async def test_long_answer_is_split_within_limits_and_complete(
        llm_service: ChatService, openai_fake: FakeOpenAI) -> None:
    answer = long_answer()
    assert len(answer) > 9000
    openai_fake.answer = lambda body: answer
    async with fake_telegram() as tg, telegram_bot(tg, llm_service):
        await ask(tg, "long please", lambda s: len(s) >= 3 and s[-1].rstrip().endswith("brackets."))
        messages = shown(tg, 11)
        assert all(utf16_len(m) <= 4096 for m in messages)
        assert [w for m in messages for w in m.split()] == words(answer)
        finals = [c for c in tg.calls if c.method in ("sendMessage", "editMessageText")
                  and c.params.get("parse_mode") == "HTML"]
        assert len(finals) == len(messages)  # every message ends in HTML: fences balanced
        assert all("```" not in c.params["text"] for c in finals)


async def test_rejected_html_falls_back_to_plain_text(
        llm_service: ChatService, openai_fake: FakeOpenAI) -> None:
    openai_fake.answer = lambda body: "**Done** & dusted"
    async with fake_telegram() as tg, telegram_bot(tg, llm_service):
        tg.fail("editMessageText", 400, "Bad Request: can't parse entities: unexpected tag",
                when=lambda p: p.get("parse_mode") == "HTML")
        await ask(tg, "status?", lambda s: s and s[-1] == "**Done** & dusted")
        assert not tg.failures  # the HTML attempt was made, then plain text went through


async def test_flood_control_retry_after_is_honoured(
        llm_service: ChatService, openai_fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # PTB 23's type for retry_after; no warning
    async with fake_telegram() as tg, telegram_bot(tg, llm_service):
        tg.fail("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
        await ask(tg, "hurry", lambda s: s == ["echo: hurry"])
        first, second = [c.at for c in tg.calls if c.method == "sendMessage"][:2]
        assert second - first >= 1.0


async def test_streaming_edits_are_throttled_and_never_repeat(
        llm_service: ChatService, openai_fake: FakeOpenAI) -> None:
    answer = "a fine streamed answer " * 12
    openai_fake.answer = lambda body: answer
    openai_fake.chunk_delay = 0.01  # 69 chunks over ~0.7 s
    async with fake_telegram() as tg, telegram_bot(tg, llm_service,
                                                   TELEGRAM_EDIT_INTERVAL="0.2"):
        await ask(tg, "stream", lambda s: s == [answer])
        await asyncio.sleep(0.3)  # a last formatted edit, if any, comes within one interval
        updates = [c for c in tg.calls if c.method in ("sendMessage", "editMessageText")]
        gaps = [b.at - a.at for a, b in itertools.pairwise(updates)]
        texts = [c.params["text"] for c in updates]
        assert 3 <= len(updates) <= 7 and min(gaps) >= 0.19
        assert all(a != b for a, b in itertools.pairwise(texts))
        assert len({c.params["message_id"] for c in updates[1:]}) == 1


async def test_webhook_mode_checks_the_secret(
        llm_service: ChatService, openai_fake: FakeOpenAI) -> None:
    live: dict[str, TelegramApp] = {}
    api = FastAPI()
    from pydantic import SecretStr
    api.include_router(webhook_router(SecretStr(SECRET), lambda: live.get("app")))
    async with fake_telegram() as tg, serve_asgi(api) as base:
        url = f"{base}/telegram/webhook"
        update = {"update_id": 1, "message": tg.message(chat_of(ALICE), ALICE, "early")}
        async with httpx.AsyncClient() as client:
            early = await client.post(url, json=update,
                                      headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
            assert early.status_code == 503  # not running yet: Telegram will retry
            async with telegram_bot(tg, llm_service, TELEGRAM_WEBHOOK_URL=url,
                                    TELEGRAM_WEBHOOK_SECRET=SECRET) as app:
                live["app"] = app
                assert tg.webhook and tg.webhook["secret_token"] == SECRET
                for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}):
                    refused = await client.post(url, json=update, headers=headers)
                    assert refused.status_code == 403
                pushed = await tg.send_text(chat_of(ALICE), ALICE, "via webhook")
                assert pushed["_status"] == 200
                await wait_for(lambda: "echo: via webhook" in shown(tg, 11))
        assert [r["messages"][-1]["content"] for r in openai_fake.requests] == ["via webhook"]
        assert not tg.called("getUpdates")
