"""Helpers for HTTP API tests: tokens, serving the app on loopback, reading SSE, a failing model."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import jwt
from langchain_core.callbacks import AsyncCallbackManagerForLLMRun
from langchain_core.messages import AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGenerationChunk

from adapters.http import HttpSettings, create_app
from core.offline import OfflineChatModel
from core.service import ChatService
from tests.fakes.common import serve_asgi

SECRET = "test-secret-0123456789-abcdefghijklmnop"


def settings(**values: Any) -> HttpSettings:
    return HttpSettings(**{"SWITCHBOARD_JWT_SECRET": SECRET, **values})


def token(user: str = "ana", key: Any = SECRET, algorithm: str = "HS256", **claims: Any) -> str:
    now = int(time.time())
    body = {"sub": user, "iss": "switchboard", "aud": "switchboard-api", "iat": now,
            "exp": now + 600, **claims}
    return jwt.encode({k: v for k, v in body.items() if v is not None}, key, algorithm=algorithm)


def auth(user: str = "ana") -> dict[str, str]:
    return {"Authorization": f"Bearer {token(user)}"}


@contextlib.asynccontextmanager
async def served(service: ChatService, http: HttpSettings | None = None,
                 headers: dict[str, str] | None = None) -> AsyncIterator[httpx.AsyncClient]:
    """The app on a loopback port, and a client for it (by default authenticated as `ana`)."""
    app = create_app(service, http or settings())
    async with serve_asgi(app) as url, httpx.AsyncClient(
            base_url=url, headers=auth() if headers is None else headers, timeout=10) as client:
        yield client


def parse_sse(text: str) -> list[tuple[str, Any]]:
    """(event, decoded JSON data) for each event of a complete SSE body."""
    events = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        if not block.strip():
            continue
        fields = dict(line.split(": ", 1) for line in block.split("\n"))
        events.append((fields.get("event", "message"), json.loads(fields["data"])))
    return events


class BrokenStreamModel(OfflineChatModel):
    """Streams two pieces, then fails as a dropped model connection would."""

    async def _astream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                       run_manager: AsyncCallbackManagerForLLMRun | None = None,
                       **kwargs: Any) -> AsyncIterator[ChatGenerationChunk]:
        for piece in ("half ", "an answer"):
            yield ChatGenerationChunk(message=AIMessageChunk(content=piece))
        raise httpx.ReadError("connection dropped")


class CountedChunks:
    """Pieces for `FakeOpenAI.chunks` that count how many the fake server actually sent."""

    def __init__(self, pieces: list[str]) -> None:
        self.pieces, self.sent = pieces, 0

    def __len__(self) -> int:
        return len(self.pieces)

    def __iter__(self) -> Iterator[str]:
        for piece in self.pieces:
            self.sent += 1
            yield piece
