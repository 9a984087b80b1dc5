"""Delivering Telegram answers: splitting, text + entities, flood control, streaming, webhook."""

from __future__ import annotations

import asyncio
import itertools
import re
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from adapters import render
from adapters.render import utf16_len
from adapters.telegram import webhook_router
from adapters.telegram.app import TelegramApp
from core.service import ChatService
from tests.fakes.common import serve_asgi, wait_for
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.telegram_api import (
    FakeTelegram,
    chat_of,
    fake_telegram,
    screens,
    shown,
    shown_parts,
    telegram_bot,
    user,
)

ALICE = user(11, "Alice")
SECRET = "s3cret-Token_42"
# Streaming by edits happens in groups; private chats stream as drafts (test_telegram_drafts.py).
GROUP: dict[str, Any] = {"id": -100123, "type": "supergroup", "title": "Team"}
MENTION = "@switchboard_test_bot "


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


async def ask(tg: FakeTelegram, text: str, done: Any, group: bool = False) -> None:
    await tg.send_text(GROUP if group else chat_of(ALICE), ALICE, MENTION + text if group
                       else text)
    await wait_for(lambda: done(shown(tg, GROUP["id"] if group else 11)), timeout=15)


def is_prefix(seen: list[str], answer: list[str]) -> bool:
    """`seen` begins `answer`; its last word may still be growing (or a cut `**`)."""
    if not seen:
        return True
    *whole, last = seen
    return whole == answer[:len(whole)] and len(answer) > len(whole) and \
        answer[len(whole)].startswith(last.strip("*"))


async def test_long_answer_is_split_within_limits_and_complete(
        llm_service: ChatService, openai_fake: FakeOpenAI) -> None:
    answer = long_answer()
    assert len(answer) > 9000
    openai_fake.answer = lambda body: answer
    openai_fake.chunks = lambda text: [text[i:i + 150] for i in range(0, len(text), 150)]
    openai_fake.chunk_delay = 0.015  # 63 chunks: the answer grows over several edit intervals

    final = [(p.text, [e.to_dict() for e in p.entities]) for p in render.telegram(answer)]
    async with fake_telegram() as tg, telegram_bot(tg, llm_service):
        await tg.send_text(GROUP, ALICE, MENTION + "long please")
        await wait_for(lambda: shown_parts(tg, GROUP["id"]) == final, timeout=15)
        messages = shown(tg, GROUP["id"])
        assert len(messages) >= 3 and all(utf16_len(m) <= 4096 for m in messages)
        assert [w for m in messages for w in m.split()] == words(answer)
        assert not [c for c in tg.calls if "parse_mode" in c.params]
        # Live: later messages appeared and grew while the answer was still streaming;
        # every step showed a prefix of the answer: nothing twice, lost or out of order.
        ids = [c.message_id for c in tg.changes]
        assert any(ids.count(later) >= 2 for later in set(ids) - {min(ids)})
        assert all(is_prefix(words(" ".join(screen)), words(answer))
                   for screen in screens(tg, GROUP["id"]))
        assert all(b.at - a.at >= 0.045 for a, b in itertools.pairwise(tg.changes))
        assert not tg.called("deleteMessage")


def refuse_bold(tg: FakeTelegram, method: str) -> None:
    """The next `method` call with a bold entity is refused, as it would be for a renderer bug."""
    tg.fail(method, 400, "Bad Request: can't parse entities: unsupported nesting",
            when=lambda p: any(e["type"] == "bold" for e in p.get("entities") or []))


async def test_refused_entities_fall_back_to_plain_text_on_edit(
        llm_service: ChatService, openai_fake: FakeOpenAI) -> None:
    openai_fake.answer = lambda body: "Done & dusted, **really**"  # bold at the end only
    openai_fake.chunk_delay = 0.02
    async with fake_telegram() as tg, telegram_bot(tg, llm_service):
        refuse_bold(tg, "editMessageText")
        await ask(tg, "status?", lambda s: not tg.failures and s == ["Done & dusted, really"],
                  group=True)
        refused, plain = tg.called("editMessageText")[-2:]
        assert refused["entities"] and "entities" not in plain
        assert plain["text"] == refused["text"] == "Done & dusted, really"


async def test_refused_entities_fall_back_to_plain_text_on_send(
        llm_service: ChatService, openai_fake: FakeOpenAI) -> None:
    paragraph = "**bold** & <tag> words " * 150  # 2,850 characters to show, twice
    answer = f"{paragraph}\n\n{paragraph}"  # two messages, both sent finished
    openai_fake.answer = lambda body: answer
    openai_fake.chunks = lambda text: [text]
    async with fake_telegram() as tg, telegram_bot(tg, llm_service):
        refuse_bold(tg, "sendMessage")
        await ask(tg, "twice", lambda s: len(s) == 2)
        (first, plain), (second, formatted) = shown_parts(tg, 11)
        assert not tg.failures and plain == [] and len(formatted) == 150  # sent again, plain
        assert first == second and first.startswith("bold & <tag> words bold")
        assert not tg.called("editMessageText")


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
        await ask(tg, "stream", lambda s: s == [answer.strip()], group=True)
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
