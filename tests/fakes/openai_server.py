"""A fake OpenAI-compatible chat (JSON and SSE) and audio transcription API on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from tests.fakes.common import start_aiohttp


def _text(content: Any) -> str:
    if isinstance(content, list):  # content parts: [{"type": "text", "text": ...}, ...]
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return str(content or "")


def image_parts(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The `image_url` content parts of a recorded chat request, in message order."""
    return [part for m in body.get("messages", []) if isinstance(m.get("content"), list)
            for part in m["content"] if isinstance(part, dict) and part.get("type") == "image_url"]


def heard(audio: bytes) -> str:
    """The default transcript: names the audio's size and hash, so tests can tell clips apart."""
    return f"heard {len(audio)} bytes of audio {hashlib.sha256(audio).hexdigest()[:12]}"


@dataclass
class Transcription:
    """One `/v1/audio/transcriptions` request as received."""

    model: str
    filename: str
    content_type: str
    size: int
    sha256: str
    response_format: str | None
    language: str | None


@dataclass(frozen=True)
class ToolCalls:
    """An answer that asks for tools: `(name, arguments)` pairs, as `tool_calls` on the wire."""

    calls: tuple[tuple[str, dict[str, Any]], ...]

    @classmethod
    def of(cls, name: str, **arguments: Any) -> ToolCalls:
        return cls(((name, arguments),))

    def wire(self) -> list[dict[str, Any]]:
        return [{"id": f"call_{uuid.uuid4().hex[:12]}", "type": "function",
                 "function": {"name": name, "arguments": json.dumps(args)}}
                for name, args in self.calls]


def tool_messages(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The `tool` role messages of a recorded chat request, in order."""
    return [m for m in body.get("messages", []) if m.get("role") == "tool"]


def approx_prompt_tokens(body: dict[str, Any]) -> int:
    """Prompt tokens as a provider would roughly count them: ~4 characters each, plus framing."""
    return 3 + sum(4 + len(_text(m.get("content"))) // 4 for m in body.get("messages", []))


def echo(body: dict[str, Any]) -> str:
    """The default answer: echo the last user message."""
    users = [m for m in body.get("messages", []) if m.get("role") == "user"]
    return f"echo: {_text(users[-1]['content']) if users else ''}"


class FakeOpenAI:
    """Records every request and answers with `answer(body)`; failures and hangs on demand."""

    def __init__(self) -> None:
        self.base_url = ""
        self.requests: list[dict[str, Any]] = []
        # A text, or `ToolCalls` to answer with tool calls (finish_reason "tool_calls").
        self.answer: Callable[[dict[str, Any]], str | ToolCalls] = echo
        self.transcriptions: list[Transcription] = []
        self.hear: Callable[[bytes], str] = heard  # the transcript of the uploaded audio
        self.chunk_delay = 0.0  # seconds between streamed chunks
        # Prompt tokens a request reports (`prompt_tokens(body)`), and every usage reported.
        self.prompt_tokens: Callable[[dict[str, Any]], int] = lambda body: 10
        self.usages: list[dict[str, int]] = []
        self._failures: dict[str, list[tuple[int, float | None]]] = {"chat": [], "audio": []}
        self._hangs: list[float] = []
        self._closing = asyncio.Event()

    def fail_next(self, status: int, *, retry_after: float | None = None, times: int = 1,
                  endpoint: str = "chat") -> None:
        """Answer the next `times` chat (or `endpoint="audio"`: transcription) calls `status`."""
        self._failures[endpoint].extend([(status, retry_after)] * times)

    def hang_next(self, seconds: float, times: int = 1) -> None:
        self._hangs.extend([seconds] * times)

    def unhang(self) -> None:
        """Forget the hangs no request has taken yet."""
        self._hangs.clear()

    def chunks(self, text: str) -> list[str]:
        return [text[i:i + 4] for i in range(0, len(text), 4)]

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._completions)
        app.router.add_post("/v1/audio/transcriptions", self._transcribe)
        return app

    async def _transcribe(self, request: web.Request) -> web.Response:
        fields: dict[str, Any] = dict(await request.post())
        upload = fields.get("file")
        if not isinstance(upload, web.FileField):
            return web.json_response({"error": {"message": "file is required", "type":
                                      "invalid_request_error", "param": "file", "code": None}},
                                     status=400)
        audio = upload.file.read()
        fmt = fields.get("response_format")
        self.transcriptions.append(Transcription(
            str(fields.get("model", "")), upload.filename, upload.content_type, len(audio),
            hashlib.sha256(audio).hexdigest(), fmt, fields.get("language")))
        if self._failures["audio"]:
            return _error(*self._failures["audio"].pop(0))
        text = self.hear(audio)
        if fmt in ("text", "srt", "vtt"):
            return web.Response(text=text, content_type="text/plain")
        return web.json_response({"text": text, "usage": {"type": "duration", "seconds": 1}})

    async def _completions(self, request: web.Request) -> web.StreamResponse:
        body: dict[str, Any] = await request.json()
        self.requests.append(body)
        if self._hangs:  # cut short when the server shuts down, so teardown never waits
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), self._hangs.pop(0))
        if self._failures["chat"]:
            return _error(*self._failures["chat"].pop(0))
        answer = self.answer(body)
        calls = answer.wire() if isinstance(answer, ToolCalls) else []
        text = "" if isinstance(answer, ToolCalls) else answer
        base = {"id": f"chatcmpl-{uuid.uuid4().hex[:12]}", "created": int(time.time()),
                "model": body.get("model", "fake"), "system_fingerprint": "fp_fake"}
        completion, prompt = len(self.chunks(text)) + len(calls), self.prompt_tokens(body)
        usage = {"prompt_tokens": prompt, "completion_tokens": completion,
                 "total_tokens": prompt + completion}
        if not body.get("stream") or (body.get("stream_options") or {}).get("include_usage"):
            self.usages.append(usage)
        finish = "tool_calls" if calls else "stop"
        if not body.get("stream"):
            message = {"role": "assistant", "content": text if not calls else None,
                       "refusal": None, **({"tool_calls": calls} if calls else {})}
            return web.json_response({
                **base, "object": "chat.completion", "usage": usage,
                "choices": [{"index": 0, "message": message, "finish_reason": finish,
                             "logprobs": None}]})
        return await self._stream(request, body, {**base, "object": "chat.completion.chunk"},
                                  text, calls, usage)

    async def _stream(self, request: web.Request, body: dict[str, Any], chunk: dict[str, Any],
                      text: str, calls: list[dict[str, Any]], usage: dict[str, Any]
                      ) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                               "Cache-Control": "no-cache"})
        await response.prepare(request)

        async def send(data: dict[str, Any] | str) -> None:
            line = data if isinstance(data, str) else json.dumps(data)
            await response.write(f"data: {line}\n\n".encode())

        def choice(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            return {**chunk, "choices": [{"index": 0, "delta": delta, "finish_reason": finish,
                                          "logprobs": None}]}

        await send(choice({"role": "assistant", "content": None if calls else ""}))
        for piece in self.chunks(text):
            if self.chunk_delay:
                await asyncio.sleep(self.chunk_delay)
            await send(choice({"content": piece}))
        for index, call in enumerate(calls):  # the name first, then the arguments in pieces
            head = {"index": index, "id": call["id"], "type": "function",
                    "function": {"name": call["function"]["name"], "arguments": ""}}
            await send(choice({"tool_calls": [head]}))
            for piece in self.chunks(call["function"]["arguments"]):
                await send(choice({"tool_calls": [{"index": index,
                                                   "function": {"arguments": piece}}]}))
        await send(choice({}, "tool_calls" if calls else "stop"))
        if (body.get("stream_options") or {}).get("include_usage"):
            await send({**chunk, "choices": [], "usage": usage})
        await send("[DONE]")
        await response.write_eof()
        return response


def _error(status: int, retry_after: float | None) -> web.Response:
    kind = {429: "rate_limit_exceeded", 401: "invalid_api_key"}.get(status, "server_error")
    body = {"error": {"message": f"fake error {status}", "type": kind, "param": None,
                      "code": kind}}
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
    return web.json_response(body, status=status, headers=headers)


@contextlib.asynccontextmanager
async def fake_openai() -> AsyncIterator[FakeOpenAI]:
    """Serve a `FakeOpenAI` on a free loopback port for the duration of the block."""
    fake = FakeOpenAI()
    runner, port = await start_aiohttp(fake.app())
    fake.base_url = f"http://127.0.0.1:{port}/v1"
    try:
        yield fake
    finally:
        fake._closing.set()
        await runner.cleanup()
