"""A fake OpenAI chat endpoint for bench/e2e.py: a fixed answer streamed at a set token rate.

Run in its own process (`python -m bench.e2e_model --tokens 300 --rate 150`), so its CPU is not
counted against the contestants. It prints its port on the first line of stdout. Each answer is
`tokens` chunks of one token each (a word piece of about 4 characters, as OpenAI streams them);
chunks that fall due in the same 20 ms tick are written together, as a busy network would
deliver them. `/v1/chat/completions` without `stream` waits as long as the stream would take,
then answers whole. `GET /stats` reports the answers and tokens sent so far, and when (this
machine's monotonic clock, which every process shares) the first content token of each tagged
streamed request went out: a request is tagged by a `#ttfw-<name>` word in its last user message,
so the bench can tie a conversation to the model request that answers it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import time
from typing import Any

from aiohttp import web

TICK_S = 0.02
TAG = re.compile(r"#ttfw-([\w-]+)")
WORDS = ("the", "quarterly", "report", "is", "due", "on", "Friday", "and", "Ann", "owns",
         "the", "slides", "while", "Bob", "checks", "the", "numbers", "once", "more", "before",
         "we", "send", "them", "to", "the", "board", "for", "review")


def pieces(tokens: int) -> list[str]:
    """`tokens` word pieces of about 4 characters: ' the', ' quar', 'terl', 'y', ..."""
    out: list[str] = []
    while len(out) < tokens:
        for word in WORDS:
            word = " " + word
            out.extend(word[i:i + 4] for i in range(0, len(word), 4))
    return out[:tokens]


def tag_of(body: dict[str, Any]) -> str | None:
    """The `#ttfw-<name>` tag of the request's last user message, if it has one."""
    users = [m for m in body.get("messages") or [] if m.get("role") == "user"]
    content = users[-1].get("content") if users else None
    if isinstance(content, list):  # content blocks: the text ones
        content = " ".join(str(b.get("text", "")) for b in content if isinstance(b, dict))
    found = TAG.findall(content) if isinstance(content, str) else []
    return str(found[-1]) if found else None


class Model:
    """The answer, pre-encoded, and counters of what was sent."""

    def __init__(self, tokens: int, rate: float) -> None:
        self.text_pieces, self.rate = pieces(tokens), rate
        self.answers = self.tokens = 0
        self.first: dict[str, float] = {}  # tag -> monotonic time its first token was sent
        base = {"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 1,
                "model": "bench", "system_fingerprint": "fp_bench"}

        def event(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> bytes:
            body = {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish,
                                         "logprobs": None}], **extra}
            return f"data: {json.dumps(body)}\n\n".encode()
        self.head = event({"role": "assistant", "content": ""})
        self.events = [event({"content": p}) for p in self.text_pieces]
        usage = {"prompt_tokens": 50, "completion_tokens": tokens, "total_tokens": 50 + tokens}
        last = json.dumps({**base, "choices": [], "usage": usage})
        self.tail = event({}, "stop") + f"data: {last}\n\ndata: [DONE]\n\n".encode()
        self.whole = json.dumps({
            **base, "object": "chat.completion", "usage": usage,
            "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None, "message": {
                "role": "assistant", "content": "".join(self.text_pieces), "refusal": None}}]})

    async def completions(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        if not body.get("stream"):
            await asyncio.sleep(len(self.events) / self.rate)
            self.answers, self.tokens = self.answers + 1, self.tokens + len(self.events)
            return web.Response(text=self.whole, content_type="application/json")
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        await response.write(self.head)
        start, sent, tag = time.monotonic(), 0, tag_of(body)
        while sent < len(self.events):
            due = min(len(self.events), max(sent + 1, int((time.monotonic() - start) * self.rate)))
            await response.write(b"".join(self.events[sent:due]))
            if tag is not None and not sent:
                self.first.setdefault(tag, time.monotonic())
            self.tokens += due - sent
            sent = due
            await asyncio.sleep(TICK_S)
        await response.write(self.tail)
        await response.write_eof()
        self.answers += 1
        return response

    async def stats(self, request: web.Request) -> web.Response:
        return web.json_response({"answers": self.answers, "tokens": self.tokens,
                                  "first_token": self.first})

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self.completions)
        app.router.add_get("/stats", self.stats)
        return app


async def main(tokens: int, rate: float) -> None:
    runner = web.AppRunner(Model(tokens, rate).app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=4096)
    await site.start()
    print(site._server.sockets[0].getsockname()[1], flush=True)  # type: ignore[union-attr]
    await asyncio.Event().wait()


def loop_factory() -> Any:
    with contextlib.suppress(ImportError):
        import uvloop
        return uvloop.new_event_loop
    return asyncio.new_event_loop


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tokens", type=int, default=300)
    parser.add_argument("--rate", type=float, default=150.0, help="tokens per second per answer")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt), asyncio.Runner(loop_factory=loop_factory()) as r:
        r.run(main(args.tokens, args.rate))
