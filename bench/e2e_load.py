"""The load generator of bench/e2e.py: conversations over HTTP, each answer timed.

A contestant is a way to get one answer: Switchboard's SSE or JSON route, or the peer's. Each
conversation sends its turns one after another on its own session until the window closes;
`level` runs `c` of them side by side and reads the contestant process's CPU and RSS around it.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import aiohttp
import jwt

from bench.e2e_procs import SECRET, Proc

TEXT = "Could you remind me what we decided about the quarterly report and who owns the slides?"


@dataclass
class Got:
    """One answer as the client saw it."""

    ok: bool
    latency: float  # seconds from sending the request to the end of the answer
    ttfw: float  # seconds to the first visible word (the whole answer for JSON routes)
    tokens: int = 0  # token events received (0 for JSON routes)


Ask = Callable[[aiohttp.ClientSession, str, str | None], Awaitable[tuple[Got, str | None]]]


def sb_token(user: str) -> str:
    claims = {"sub": user, "iss": "switchboard", "aud": "switchboard-api",
              "exp": int(time.time()) + 3600}
    return jwt.encode(claims, SECRET, algorithm="HS256")


def peer_token(user: str) -> str:
    return jwt.encode({"sub": user, "exp": int(time.time()) + 3600}, SECRET, algorithm="HS256")


def _body(session_id: str | None) -> dict[str, str]:
    return {"message": TEXT, **({"session_id": session_id} if session_id else {})}


class Counter:
    """Counts a marker in a byte stream cut into arbitrary chunks, without splitting lines.

    The load generator shares the machine with the contestants: it scans each chunk once
    instead of parsing SSE line by line, so it stays light at a thousand streams.
    """

    def __init__(self, marker: bytes) -> None:
        self.marker, self.tail, self.count = marker, b"", 0

    def feed(self, chunk: bytes) -> int:
        """The new occurrences in `chunk` (one cut across the previous chunk counts too)."""
        joined = self.tail + chunk
        new = joined.count(self.marker) - self.tail.count(self.marker)
        self.tail, self.count = joined[-len(self.marker):], self.count + new
        return new


async def _stream(response: aiohttp.ClientResponse, token: bytes, end: bytes,
                  start: float) -> tuple[float, int, bool, bytes]:
    """Seconds to the first token, tokens, whether `end` arrived, and the first bytes."""
    tokens, ends, first, head = Counter(token), Counter(end), 0.0, b""
    async for chunk in response.content.iter_any():
        if len(head) < 4096 and b"\n\n" not in head:  # the whole first event
            head += chunk
        if tokens.feed(chunk) and not first:
            first = time.perf_counter() - start
        ends.feed(chunk)
    return first, tokens.count, ends.count > 0 and response.status == 200, head


def _session(head: bytes, key: bytes) -> str | None:
    """The session id from the stream's first event (`key` is the line it is on)."""
    for line in head.split(b"\n"):
        if line.startswith(key):
            return str(json.loads(line[6:])["session_id"])
    return None


def sb_stream(base: str) -> Ask:
    async def ask(http: aiohttp.ClientSession, token: str, sid: str | None
                  ) -> tuple[Got, str | None]:
        start = time.perf_counter()
        async with http.post(base + "/v1/chat/stream", json=_body(sid),
                             headers={"Authorization": f"Bearer {token}"}) as response:
            first, tokens, ok, head = await _stream(response, b"event: token\n",
                                                    b"event: done\n", start)
        got = Got(ok, time.perf_counter() - start, first, tokens)
        return got, sid or _session(head, b'data: {"session_id"')
    return ask


def sb_chat(base: str) -> Ask:
    async def ask(http: aiohttp.ClientSession, token: str, sid: str | None
                  ) -> tuple[Got, str | None]:
        start = time.perf_counter()
        async with http.post(base + "/v1/chat", json=_body(sid),
                             headers={"Authorization": f"Bearer {token}"}) as response:
            body = await response.json() if response.status == 200 else {}
        took = time.perf_counter() - start
        return Got(bool(body.get("reply")), took, took), body.get("session_id", sid)
    return ask


def peer_stream(base: str) -> Ask:
    async def ask(http: aiohttp.ClientSession, token: str, sid: str | None
                  ) -> tuple[Got, str | None]:
        start = time.perf_counter()
        async with http.post(base + "/chat/stream", json=_body(sid),
                             headers={"Authorization": f"Bearer {token}"}) as response:
            first, tokens, ok, head = await _stream(response, b'data: {"token"',
                                                    b"data: [DONE]", start)
        got = Got(ok, time.perf_counter() - start, first, tokens)
        return got, sid or _session(head, b'data: {"session_id"')
    return ask


def peer_chat(base: str) -> Ask:
    async def ask(http: aiohttp.ClientSession, token: str, sid: str | None
                  ) -> tuple[Got, str | None]:
        start = time.perf_counter()
        async with http.post(base + "/chat", json=_body(sid),
                             headers={"Authorization": f"Bearer {token}"}) as response:
            body = await response.json() if response.status == 200 else {}
        took = time.perf_counter() - start
        return Got(bool(body.get("response")), took, took), body.get("session_id", sid)
    return ask


@dataclass
class Contestant:
    """One way to get answers, served by one process."""

    name: str
    ask: Ask
    token: Callable[[str], str]
    proc: Proc


@dataclass
class Level:
    """What one contestant did at one concurrency."""

    name: str
    c: int
    seconds: float
    cpu: float
    rss_before: float
    rss_peak: float
    gen_cpu: float  # the load generator's own CPU seconds (if near `seconds`, it was the limit)
    per_conv: list[list[Got]] = field(default_factory=list)

    @property
    def answers(self) -> list[Got]:
        return [g for conv in self.per_conv for g in conv if g.ok]

    @property
    def errors(self) -> int:
        return sum(not g.ok for conv in self.per_conv for g in conv)

    def pct(self, values: list[float], q: float) -> float:
        return sorted(values)[min(len(values) - 1, int(q * len(values)))] * 1000 if values else 0

    def starved(self) -> float:
        """The slowest conversation's mean latency over the fastest's (1 = perfectly fair)."""
        means = [statistics.mean(g.latency for g in conv) for conv in self.per_conv if conv]
        return max(means) / min(means) if means else 0.0


async def _conversation(c: Contestant, http: aiohttp.ClientSession, user: str,
                        deadline: float, least: int) -> list[Got]:
    token, sid, out = c.token(user), None, list[Got]()
    while len(out) < least or time.monotonic() < deadline:
        try:
            got, sid = await c.ask(http, token, sid)
        except (aiohttp.ClientError, TimeoutError):
            got = Got(False, 0.0, 0.0)
        out.append(got)
        if not got.ok and len(out) >= least:
            break
    return out


async def _watch_rss(proc: Proc, peak: list[float]) -> None:
    while True:
        peak[0] = max(peak[0], proc.rss_mb())
        await asyncio.sleep(0.1)


async def level(c: Contestant, http: aiohttp.ClientSession, conversations: int,
                window: float, least: int, tag: str) -> Level:
    """`conversations` side by side for `window` seconds, each answering at least `least`."""
    before = c.proc.rss_mb()
    peak = [before]
    watch = asyncio.create_task(_watch_rss(c.proc, peak))
    cpu, gen, start = c.proc.cpu(), time.process_time(), time.perf_counter()
    deadline = time.monotonic() + window
    per_conv = await asyncio.gather(*(
        _conversation(c, http, f"{tag}{c.name}-{conversations}-{i}", deadline, least)
        for i in range(conversations)))
    seconds, cpu = time.perf_counter() - start, c.proc.cpu() - cpu
    watch.cancel()
    return Level(c.name, conversations, seconds, cpu, before, peak[0],
                 time.process_time() - gen, list(per_conv))


HEADER = (f"{'contestant':<22}{'conc':>5}{'answers':>8}{'ans/s':>8}{'p50 ms':>8}{'p95':>7}"
          f"{'p99':>7}{'ttfw p50':>9}{'p95':>6}{'cpu ms/ans':>11}{'peak MB':>8}{'errors':>7}"
          f"{'starve':>7}{'tokens':>8}{'gen%':>6}")


def row(lv: Level) -> str:
    got = lv.answers
    lat, ttfw = [g.latency for g in got], [g.ttfw for g in got]
    cpu_ms = lv.cpu * 1000 / len(got) if got else 0.0
    return (f"{lv.name:<22}{lv.c:>5}{len(got):>8}{len(got) / lv.seconds:>8.1f}"
            f"{lv.pct(lat, 0.5):>8.0f}{lv.pct(lat, 0.95):>7.0f}{lv.pct(lat, 0.99):>7.0f}"
            f"{lv.pct(ttfw, 0.5):>9.0f}{lv.pct(ttfw, 0.95):>6.0f}{cpu_ms:>11.1f}"
            f"{lv.rss_peak:>8.0f}{lv.errors:>7}{lv.starved():>7.2f}"
            f"{sum(g.tokens for g in got):>8}{100 * lv.gen_cpu / lv.seconds:>6.0f}")
