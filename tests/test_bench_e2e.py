"""bench/e2e.py stays runnable: its pieces import, and its peer and fake model answer."""

from __future__ import annotations

import time

import aiohttp

from bench.e2e import parse, summary
from bench.e2e_load import Counter, Got, Level, peer_stream, peer_token
from bench.e2e_model import Model, pieces, tag_of
from bench.e2e_peer import PeerSettings, create_app
from bench.e2e_platforms import pct, tagged
from bench.e2e_procs import SECRET
from tests.fakes.common import serve_asgi, start_aiohttp


def test_quick_run_is_small() -> None:
    args = parse(["--quick"])
    assert args.levels == [1, 10, 100] and args.window <= 5 and args.least(100) == 1


def test_counter_finds_markers_cut_across_chunks() -> None:
    counter = Counter(b"event: token\n")
    stream = b"event: session\ndata: {}\n\n" + b"event: token\ndata: {}\n\n" * 5
    assert sum(counter.feed(stream[i:i + 7]) for i in range(0, len(stream), 7)) == 5


def test_the_answer_is_word_pieces() -> None:
    got = pieces(300)
    assert len(got) == 300 and all(1 <= len(p) <= 4 for p in got)


def test_summary_line_names_every_figure() -> None:
    def level(name: str, seconds: float) -> Level:
        return Level(name, 100, seconds, 1.0, 100.0, 120.0, 0.5, [[Got(True, 2.0, 0.1, 300)]] * 100)
    line = summary({("switchboard_stream", 100): level("switchboard_stream", 10.0),
                    ("peer_stream", 100): level("peer_stream", 20.0)},
                   {"ttfw_ms_telegram": "na", "ttfw_ms_slack": "12",
                    "ttfw_after_token_ms_slack": "9"})
    assert line.startswith("e2e_rps_ratio_c100=2.00 e2e_p99_ratio_c100=1.00 cpu_per_answer_ms=10.0")
    assert line.endswith("ttfw_ms_telegram=na ttfw_ms_slack=12 ttfw_after_token_ms_slack=9")


def test_platforms_only_skips_the_http_levels() -> None:
    assert parse(["--platforms-only"]).platforms_only and not parse([]).platforms_only


def test_the_model_finds_the_conversation_tag() -> None:
    def ask(content: object) -> dict[str, object]:
        return {"messages": [{"role": "system", "content": "#ttfw-no"},
                             {"role": "user", "content": content}]}
    assert tag_of(ask(tagged("slack", 7))) == "slack-7"
    assert tag_of(ask([{"type": "text", "text": "ann: " + tagged("http", 0)}])) == "http-0"
    assert tag_of(ask("no tag")) is None and tag_of({"messages": []}) is None


def test_quantiles_are_nearest_rank() -> None:
    ten = [float(i) for i in range(10)]
    assert pct(ten, 0.5) == 5.0 and pct(ten, 0.95) == 9.0 and pct([3.0], 0.95) == 3.0


async def test_peer_streams_one_answer_and_keeps_it(redis_url: str, prefix: str) -> None:
    model = Model(tokens=12, rate=10_000)
    runner, port = await start_aiohttp(model.app())
    peer = create_app(PeerSettings(redis_url, prefix, f"http://127.0.0.1:{port}/v1", SECRET))
    try:
        async with serve_asgi(peer) as base, aiohttp.ClientSession() as http:
            ask = peer_stream(base)
            first, sid = await ask(http, peer_token("ann"), None)
            second, same = await ask(http, peer_token("ann"), sid)
    finally:
        await runner.cleanup()
    assert first.ok and second.ok and first.tokens == 12 and sid and same == sid
    assert model.answers == 2 and model.tokens == 24


async def test_model_notes_when_each_tagged_request_got_its_first_token() -> None:
    model = Model(tokens=3, rate=10_000)
    runner, port = await start_aiohttp(model.app())
    url = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            before = time.monotonic()
            body = {"stream": True, "messages": [{"role": "user", "content": tagged("x", 1)}]}
            async with http.post(url + "/v1/chat/completions", json=body) as response:
                await response.read()
            async with http.get(url + "/stats") as response:
                stats = await response.json()
    finally:
        await runner.cleanup()
    assert list(stats["first_token"]) == ["x-1"]
    assert before < stats["first_token"]["x-1"] < time.monotonic()
