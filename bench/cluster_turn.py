"""One core turn on a 3-primary Redis Cluster next to one Redis: latency, round trips, throughput.

Both run the same redis-server (the one on PATH), started by this script on loopback, with the
instant model of core_turn.py. Round trips are counted by a TCP proxy in front of every node
(the cluster client reaches each node through its proxy with redis-py's address_remap).
Run: .venv/bin/python bench/cluster_turn.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator

from core_turn import MODEL, TEXT, FlightProxy, free_port
from redis import Redis
from redis.asyncio.cluster import RedisCluster

from core.keys import SessionKey, Speaker, UserKey
from core.redis_modes import AnyRedis, build_client
from core.redis_store import RedisStore
from core.service import ChatService, Turn
from core.settings import CoreSettings


@contextlib.contextmanager
def servers(primaries: int = 3) -> Iterator[tuple[int, list[int]]]:
    """One plain redis-server and a cluster of `primaries` nodes; yields their ports."""
    folder, procs = tempfile.mkdtemp(prefix="sbclbench"), []
    ports = [free_port()]
    while len(ports) < primaries + 1:  # cluster nodes also listen on port + 10000
        if _bus_free(port := free_port()):
            ports.append(port)
    try:
        for i, port in enumerate(ports):
            extra = [] if i == 0 else ["--cluster-enabled", "yes", "--cluster-config-file",
                                       f"n{port}.conf"]
            procs.append(subprocess.Popen(
                ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", *extra], cwd=folder, stdout=subprocess.DEVNULL))
        _wait(lambda: all(Redis(port=p).ping() for p in ports))
        subprocess.run(["redis-cli", "--cluster", "create",
                        *(f"127.0.0.1:{p}" for p in ports[1:]), "--cluster-replicas", "0",
                        "--cluster-yes"], check=True, capture_output=True, timeout=60)
        _wait(lambda: all(_cluster_ok(p) for p in ports[1:]))
        yield ports[0], ports[1:]
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)


def _cluster_ok(port: int) -> bool:
    with Redis(port=port, decode_responses=True) as client:
        info = client.execute_command("CLUSTER", "INFO")
        return "cluster_state:ok" in info if isinstance(info, str) else (
            info.get("cluster_state") == "ok")


def _bus_free(port: int) -> bool:
    with socket.socket() as s:
        return port < 55000 and s.connect_ex(("127.0.0.1", port + 10000)) != 0


def _wait(check: object) -> None:
    for _ in range(300):
        with contextlib.suppress(Exception):
            if check():  # type: ignore[operator]
                return
        time.sleep(0.1)
    raise RuntimeError("servers did not come up")


class Bench:
    """The core on one client; `turn` answers one message in a fresh or preloaded session."""

    def __init__(self, client: AnyRedis, prefix: str) -> None:
        settings = CoreSettings(_env_file=None, REDIS_URL="redis://127.0.0.1:1",
                                SWITCHBOARD_REDIS_PREFIX=prefix,
                                SWITCHBOARD_RATE_LIMIT="1000000/second")
        self.client = client
        self.store = RedisStore(client, prefix, 86400, settings.history_max_messages)
        self.service = ChatService(self.store, MODEL, settings)

    async def turn(self, sid: str) -> None:
        user = UserKey.of("bench", sid)
        await self.service.reply(Turn(SessionKey.direct(user), Speaker(user, "Ann", "Bench"),
                                      TEXT))


async def latencies(bench: Bench, sids: list[str]) -> list[float]:
    out = []
    for sid in sids:
        start = time.perf_counter()
        await bench.turn(sid)
        out.append((time.perf_counter() - start) * 1000)
    return out


async def throughput(bench: Bench, count: int, each: int) -> float:
    async def conversation(sid: str) -> None:
        for _ in range(each):
            await bench.turn(sid)
    start = time.perf_counter()
    await asyncio.gather(*(conversation(f"tp{i}") for i in range(count)))
    return count * each / (time.perf_counter() - start)


async def flights(ports: list[int], cluster: bool, turns: int) -> float:
    """Request flights per turn, summed over every node (on a cluster, sent in parallel)."""
    proxies = {p: FlightProxy(p) for p in ports}
    mapped = {p: await proxy.start() for p, proxy in proxies.items()}
    if cluster:
        client: AnyRedis = RedisCluster(host="127.0.0.1", port=mapped[ports[0]],
                                        decode_responses=True,
                                        address_remap=lambda a: (a[0], mapped.get(a[1], a[1])))
    else:
        client = build_client(f"redis://127.0.0.1:{mapped[ports[0]]}", "standalone")
    bench = Bench(client, f"sbclbench:rt{cluster}:")
    await bench.store.scripts.load(client)
    sids = [f"rt{i}" for i in range(turns)]
    for sid in sids:
        await bench.turn(sid)  # connections to every node, scripts loaded
    before = {p: proxy.flights for p, proxy in proxies.items()}
    await latencies(bench, sids)
    seen = {p: proxy.flights - before[p] for p, proxy in proxies.items()}
    await client.aclose()
    for proxy in proxies.values():
        await proxy.stop()
    return sum(seen.values()) / turns


async def run(args: argparse.Namespace) -> None:
    turns, each = (100, 2) if args.quick else (500, 10)
    with servers() as (single, nodes):
        benches = {"single Redis": Bench(build_client(f"redis://127.0.0.1:{single}",
                                                      "standalone"), "sbclbench:"),
                   "3-primary cluster": Bench(build_client(f"redis://127.0.0.1:{nodes[0]}",
                                                           "cluster"), "sbclbench:")}
        lat: dict[str, list[float]] = {name: [] for name in benches}
        for b in benches.values():
            await b.store.scripts.load(b.client)
            await latencies(b, [f"warm{i}" for i in range(50)])
        for lo in range(0, turns, 20):  # interleaved against drift
            for name, b in benches.items():
                lat[name] += await latencies(b, [f"l{i}" for i in range(lo, lo + 20)])
        print(f"{'':<20}{'median ms':>10}{'p95 ms':>8}{'turns/s (100 conv.)':>21}"
              f"{'flights/turn, all nodes':>25}")
        for (name, b), cluster in zip(benches.items(), (False, True), strict=True):
            rate = await throughput(b, 100, each)
            total = await flights(nodes if cluster else [single], cluster, 60)
            values = sorted(lat[name])
            print(f"{name:<20}{statistics.median(values):>10.2f}"
                  f"{values[int(0.95 * len(values))]:>8.2f}{rate:>21.0f}{total:>25.2f}")
            await b.client.aclose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer turns")
    asyncio.run(run(parser.parse_args()))
