"""End to end, as a user sees it: Switchboard's HTTP API against a seed-style FastAPI peer.

One run starts a private Redis, a fake model streaming a fixed answer (bench/e2e_model.py),
`switchboard run http` and the peer (bench/e2e_peer.py), each in its own process, then drives
conversations at each concurrency level through `POST /v1/chat/stream`, `POST /v1/chat` and the
peer's `/chat/stream`. Per level: answers/s, latency p50/p95/p99, time to first visible word,
CPU ms per answer and peak RSS of the serving process alone, errors, and how unfair it was to
the slowest conversation. Then the platform paths (bench/e2e_platforms.py) for their time to
first visible word, from the message and after the model's first token (`--platforms-only`
runs just those). `--profile` samples Switchboard with py-spy during the streamed level.
Run: .venv/bin/python bench/e2e.py [--quick] [--profile] [--platforms-only]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import uuid
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script or module

from bench.e2e_load import (
    HEADER,
    Contestant,
    Level,
    level,
    peer_chat,
    peer_stream,
    peer_token,
    row,
    sb_chat,
    sb_stream,
    sb_token,
)
from bench.e2e_model import loop_factory
from bench.e2e_procs import Stack, stack
from bench.e2e_profile import Profiler


async def model_stats(http: aiohttp.ClientSession, url: str) -> dict[str, Any]:
    async with http.get(url + "/stats") as response:
        stats: dict[str, Any] = await response.json()
        return stats


async def contestants(run: Stack, model_url: str, quick: bool) -> list[Contestant]:
    sb_proc, sb_url = await run.switchboard(model_url, ["http"])
    peer_proc, peer_url = await run.peer(model_url)
    out = [Contestant("switchboard_stream", sb_stream(sb_url), sb_token, sb_proc),
           Contestant("switchboard_chat", sb_chat(sb_url), sb_token, sb_proc),
           Contestant("peer_stream", peer_stream(peer_url), peer_token, peer_proc)]
    if not quick:
        out.append(Contestant("peer_chat", peer_chat(peer_url), peer_token, peer_proc))
    return out


async def http_levels(args: argparse.Namespace, run: Stack, model_url: str,
                      tag: str) -> dict[tuple[str, int], Level]:
    results: dict[tuple[str, int], Level] = {}
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=None, sock_read=300)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        racers = await contestants(run, model_url, args.quick)
        for racer in racers:  # connections, scripts, imports: outside the figures
            await level(racer, http, 3, 0, 1, tag + "warm-")
        print(HEADER)
        for conc in args.levels:
            for racer in racers:
                if args.only and racer.name not in args.only:
                    continue
                if conc > 100 and not racer.name.endswith("_stream"):
                    continue  # a thousand at once: the streamed routes, which hold them open
                sent = await model_stats(http, model_url)
                profiling = args.profile and conc == 100 and racer.name == "switchboard_stream"
                with Profiler(racer.proc.popen.pid, args.window + 5) if profiling \
                        else contextlib.nullcontext() as prof:
                    lv = await level(racer, http, conc, args.window, args.least(conc), tag)
                after = await model_stats(http, model_url)
                print(row(lv) + f"  (model sent {after['tokens'] - sent['tokens']} tokens)",
                      flush=True)
                results[racer.name, conc] = lv
                if conc >= 1000:
                    grown = (lv.rss_peak - lv.rss_before) * 1024 / conc
                    print(f"  {racer.name}: RSS grew {grown:.0f} KB per open stream", flush=True)
                if prof is not None:
                    prof.report(len(lv.answers))
    return results


def summary(results: dict[tuple[str, int], Level], ttfw: dict[str, str]) -> str:
    """The last line: `key=value` figures; `ttfw` holds the platforms' keys and values."""
    sb, peer = results.get(("switchboard_stream", 100)), results.get(("peer_stream", 100))
    parts: dict[str, Any] = {"e2e_rps_ratio_c100": "na", "e2e_p99_ratio_c100": "na",
                             "cpu_per_answer_ms": "na"}
    if sb and peer and sb.answers and peer.answers:
        rate = (len(sb.answers) / sb.seconds) / (len(peer.answers) / peer.seconds)
        p99 = (sb.pct([g.latency for g in sb.answers], 0.99)
               / peer.pct([g.latency for g in peer.answers], 0.99))
        parts.update(e2e_rps_ratio_c100=f"{rate:.2f}", e2e_p99_ratio_c100=f"{p99:.2f}",
                     cpu_per_answer_ms=f"{sb.cpu * 1000 / len(sb.answers):.1f}")
        peer_cpu = peer.cpu / len(peer.answers)
        parts["cpu_ratio_peer_over_sb"] = f"{peer_cpu / (sb.cpu / len(sb.answers)):.2f}"
    parts.update(ttfw)
    return " ".join(f"{k}={v}" for k, v in parts.items())


async def bench(args: argparse.Namespace) -> None:
    tag = f"sbe2e:{uuid.uuid4().hex[:8]}:"
    with stack(args.tokens, args.rate, tag) as run:
        model_url = await run.model()
        print(f"fake model: {args.tokens} tokens per answer at {args.rate:g} tokens/s, one token "
              f"a chunk; window {args.window:g} s per level; levels {args.levels}; "
              f"{len(__import__('os').sched_getaffinity(0))} cores; Switchboard answers "
              f"{__import__('os').environ.get('SWITCHBOARD_MAX_TURNS', '64')} turns at once "
              "(SWITCHBOARD_MAX_TURNS)")
        results = {} if args.platforms_only else await http_levels(args, run, model_url, tag)
        ttfw = {f"{key}_{name}": "na" for key in ("ttfw_ms", "ttfw_after_token_ms")
                for name in ("telegram", "slack", "discord", "http")}
        if not args.no_platforms:
            from bench.e2e_platforms import platform_ttfw

            print(f"\nplatforms, {args.platform_conversations} conversations at once")
            ttfw |= await platform_ttfw(run, model_url, args.platform_conversations,
                                        args.tokens / args.rate)
    print(summary(results, ttfw))


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short run (under two minutes)")
    parser.add_argument("--profile", action="store_true",
                        help="py-spy Switchboard during the 100-conversation streamed level")
    parser.add_argument("--tokens", type=int, default=300, help="tokens per answer")
    parser.add_argument("--rate", type=float, default=150.0, help="model tokens/s per answer")
    parser.add_argument("--levels", type=lambda s: [int(x) for x in s.split(",")], default=None)
    parser.add_argument("--window", type=float, default=None, help="seconds per level")
    parser.add_argument("--no-platforms", action="store_true")
    parser.add_argument("--platforms-only", action="store_true",
                        help="only the platform paths' time to first visible word")
    parser.add_argument("--only", type=lambda s: s.split(","), default=None,
                        help="contestants to run, e.g. switchboard_stream,peer_stream")
    parser.add_argument("--platform-conversations", type=int, default=10)
    args = parser.parse_args(argv)
    args.levels = args.levels or ([1, 10, 100] if args.quick else [1, 10, 100, 1000])
    args.window = args.window or (4.0 if args.quick else 20.0)
    # At one conversation a window holds few answers: ask for a few more there.
    args.least = lambda conc: (2 if args.quick else 10) if conc == 1 else 1
    return args


if __name__ == "__main__":
    # The load generator on uvloop too: the lighter it is, the more of the machine the
    # contestants get (its own CPU share is printed as gen%).
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        runner.run(bench(parse()))
