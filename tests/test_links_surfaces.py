"""Linking as users do it: `switchboard chat`'s /link, /whoami, /unlink and the `/v1/me` routes."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from typing import cast

import httpx
import pytest

from adapters import identity
from adapters.terminal import Terminal
from core.keys import SessionKey, Speaker, UserKey
from core.links import Person
from core.redis_store import RedisStore
from core.service import ChatService, Turn
from tests.fakes.http_api import auth, served

CODE = re.compile(r"/link ([A-Z2-9]{8})")


@pytest.fixture
async def api(service: ChatService) -> AsyncIterator[httpx.AsyncClient]:
    async with served(service) as client:
        yield client


def _terminal(service: ChatService, user: str = "ana") -> tuple[Terminal, io.StringIO]:
    out = io.StringIO()
    return Terminal(service, user, out, interactive=False), out


async def _say(term: Terminal, out: io.StringIO, line: str) -> str:
    out.seek(0)
    out.truncate()
    assert await term.handle(line.encode())
    return out.getvalue()


def test_texts_name_the_accounts_only_to_their_person() -> None:
    tg, sl = UserKey.of("telegram", 42), UserKey.of("slack", "T1", "U 7")
    assert identity.shown(sl) == "slack T1 U 7"
    assert identity.listing(Person((tg,)), tg).startswith("This account isn't linked")
    assert identity.listing(Person((sl, tg)), tg) == \
        "Your linked accounts:\n• slack T1 U 7\n• telegram 42 (this one)"
    assert "one conversation" in identity.joined(Person((sl, tg)), shared_dms=True)
    assert "one conversation" not in identity.joined(Person((sl, tg)), shared_dms=False)


async def test_the_terminal_links_with_the_api(service: ChatService,
                                               api: httpx.AsyncClient) -> None:
    term, out = _terminal(service)
    assert "isn't linked" in await _say(term, out, "/whoami")
    said = await _say(term, out, "/link")
    code = CODE.search(said)
    assert code and "10 minutes" in said
    linked = await api.post("/v1/me/link", json={"code": code.group(1).lower()})
    assert linked.status_code == 200, linked.text
    assert linked.json() == {"linked": True, "identities": [
        {"platform": "api", "id": "api:ana"}, {"platform": "cli", "id": "cli:ana"}]}
    assert "• api ana\n• cli ana (this one)" in await _say(term, out, "/whoami")
    await service.reply(Turn(SessionKey.direct(term.speaker.user), term.speaker, "hello"))
    used = (await api.get("/v1/me/usage")).json()
    assert used["day"]["tokens"] == (await service.usage(term.speaker.user)).day.tokens
    assert "on its own again" in await _say(term, out, "/unlink")
    assert "isn't linked" in await _say(term, out, "/unlink")
    assert "doesn't match" in await _say(term, out, "/link abc")


async def test_the_api_links_and_refuses_with_specific_errors(service: ChatService,
                                                              api: httpx.AsyncClient) -> None:
    cast(RedisStore, service.store).clock = lambda: now[0]
    now = [4_000_000_000.0]
    made = await api.post("/v1/me/link-code")
    assert made.status_code == 200 and set(made.json()) == {"code", "expires_at"}
    code = made.json()["code"]
    own = await api.post("/v1/me/link", json={"code": code})
    assert own.status_code == 400 and "other account" in own.json()["error"]
    bob = auth("bob")
    assert (await api.post("/v1/me/link", json={}, headers=bob)).status_code == 422
    for left in (4, 3, 2, 1):
        wrong = await api.post("/v1/me/link", json={"code": "2222-2222"}, headers=bob)
        assert wrong.status_code == 400 and f"{left} more tries" in wrong.json()["error"]
        assert "2222" not in wrong.text
    fifth = await api.post("/v1/me/link", json={"code": "22223333"}, headers=bob)
    assert fifth.status_code == 429 and fifth.headers["Retry-After"] == "3600"
    locked = await api.post("/v1/me/link", json={"code": code}, headers=bob)  # even the right one
    assert locked.status_code == 429 and "locked until" in locked.json()["error"]
    now[0] += 3601  # an hour later the lock is gone, and so is the code's time
    expired = await api.post("/v1/me/link", json={"code": code}, headers=bob)
    assert expired.status_code == 410 and "expired" in expired.json()["error"]
    fresh = (await api.post("/v1/me/link-code")).json()["code"]
    assert (await api.post("/v1/me/link", json={"code": fresh}, headers=bob)).status_code == 200
    mine = (await api.get("/v1/me/identities", headers=bob)).json()
    assert mine["linked"] and {i["id"] for i in mine["identities"]} == {"api:ana", "api:bob"}
    chat = await api.post("/v1/chat", json={"message": "ana was here"})
    assert chat.status_code == 200
    erased = await api.delete("/v1/me", headers=bob)  # forget from one erases both
    assert erased.status_code == 200 and erased.json()["erased"] >= 1
    assert (await api.get("/v1/sessions")).json()["sessions"] == []
    assert not (await api.get("/v1/me/identities")).json()["linked"]
    assert (await api.delete("/v1/me/link")).status_code == 409


async def test_a_turn_and_codes_never_reach_the_logs(service: ChatService,
                                                     api: httpx.AsyncClient,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    code = (await api.post("/v1/me/link-code")).json()["code"]
    await api.post("/v1/me/link", json={"code": code}, headers=auth("bob"))
    await api.post("/v1/me/link", json={"code": "ZZZZZZZZ"}, headers=auth("eve"))
    await service.reply(Turn(SessionKey.direct(UserKey.of("api", "bob")),
                             Speaker(UserKey.of("api", "bob"), "bob", "api"), "hi"))
    assert code not in caplog.text and "ZZZZZZZZ" not in caplog.text
