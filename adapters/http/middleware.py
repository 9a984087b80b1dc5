"""Pure ASGI middleware: body size limit before parsing, access log lines, page security headers."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY = 64 * 1024  # a text message and its fields; attachments add their own allowance


def body_limit(max_files: int, max_file_bytes: int) -> int:
    """The largest body worth reading: the text, plus every allowed file base64-encoded."""
    return MAX_BODY + max_files * (max_file_bytes * 4 // 3 + 1024)
# Reading (and dropping) the rest of a slightly large body lets the client see the 413
# instead of a connection reset; beyond this size, or when it took too long, we just close.
DRAIN_MAX, DRAIN_S = 1024 * 1024, 2.0
log = logging.getLogger("switchboard.http")
PAGES = frozenset({"/", "/docs"})
# The chat page and the docs load only their own files and talks only to this origin;
# `blob:` images are the page's own thumbnails of files the user picked (URL.createObjectURL).
PAGE_HEADERS = [
    (b"content-security-policy", b"default-src 'none'; script-src 'self'; style-src 'self'; "
     b"connect-src 'self'; img-src 'self' blob:; base-uri 'none'; form-action 'none'; "
     b"frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]


async def _reply(send: Send, status: int, message: str) -> None:
    body = json.dumps({"error": message}).encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """Reads at most `limit` bytes of a request body before the app sees any; 413 beyond."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length", b"0")
        if not declared.isdigit() or int(declared) > self.limit:
            if headers.get(b"expect", b"").lower() != b"100-continue" and \
                    declared.isdigit() and int(declared) <= DRAIN_MAX:
                await _drain(receive, DRAIN_MAX)
            return await _reply(send, 413, f"request body over {self.limit} bytes")
        body = await self._read(receive)
        if body is None:
            return await _reply(send, 413, f"request body over {self.limit} bytes")
        await self.app(scope, _replay(body, receive), send)

    async def _read(self, receive: Receive) -> bytes | None:
        # A chunked body has no Content-Length: count what actually arrives.
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            size, more = size + len(chunks[-1]), message.get("more_body", False)
            if size > self.limit:
                if more:
                    await _drain(receive, DRAIN_MAX - size)
                return None
        return b"".join(chunks)


async def _drain(receive: Receive, cap: int) -> None:
    size = 0
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(DRAIN_S):
            while size <= cap:
                message = await receive()
                size += len(message.get("body", b""))
                if message["type"] != "http.request" or not message.get("more_body", False):
                    return


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()  # later calls wait for the disconnect, as before
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}
    return replay


class AccessLog:
    """One line per request: method, path, status, milliseconds; never headers or bodies."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started, status = time.perf_counter(), 0

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                if scope["path"] in PAGES or scope["path"].startswith("/static/"):
                    message["headers"] = [*message.get("headers", []), *PAGE_HEADERS]
            await send(message)
        try:
            await self.app(scope, receive, watch)
        finally:
            fields = {"method": scope["method"], "path": scope["path"], "status": status,
                      "latency_ms": int((time.perf_counter() - started) * 1000)}
            log.info("http %(method)s %(path)s %(status)d %(latency_ms)dms", fields, extra=fields)
